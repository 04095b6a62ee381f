//===- runtime/Result.h - A value or a message for the user -----*- C++ -*-===//
//
// The runtime reports every fallible step (opening a file, parsing a signal
// spec, opening a stream) as a value, never as an exception: its callers are
// tools that print the message and exit, and tests that show it on failure.
// It cannot use llvm::Expected because the runtime must not depend on LLVM.
//
// Messages are for users: they start lower-case, end without a period, and
// name the thing they are about ("cannot open 'in.wav': ...").
//
// Thread contract: a Result is a plain value. Creating a failure allocates, so
// no function the audio thread may call returns one.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_RUNTIME_RESULT_H
#define DSPJIT_RUNTIME_RESULT_H

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace dspjit {

/// The error half of a Result: one message for the user.
struct Failure {
  std::string Message;
};

/// Makes a failure that converts to any Result<T>.
inline Failure fail(std::string Message) { return Failure{std::move(Message)}; }

/// Either a T or a Failure. Test it before use:
///   auto File = readAudioFile(Path);
///   if (!File) return fail(File.error());
template <class T> class [[nodiscard]] Result {
public:
  Result(T Value) : Storage(std::in_place_index<0>, std::move(Value)) {}
  Result(Failure F) : Storage(std::in_place_index<1>, std::move(F)) {}

  explicit operator bool() const { return Storage.index() == 0; }

  T &operator*() {
    assert(*this && "dereferencing a failed Result");
    return std::get<0>(Storage);
  }
  const T &operator*() const {
    assert(*this && "dereferencing a failed Result");
    return std::get<0>(Storage);
  }
  T *operator->() { return &**this; }
  const T *operator->() const { return &**this; }

  /// The message; only valid on failure.
  const std::string &error() const {
    assert(!*this && "asking a successful Result for its error");
    return std::get<1>(Storage).Message;
  }

private:
  std::variant<T, Failure> Storage;
};

/// Success carries nothing; failure carries the message.
template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Failure F) : Message(std::move(F.Message)), Failed(true) {}

  explicit operator bool() const { return !Failed; }

  const std::string &error() const {
    assert(Failed && "asking a successful Result for its error");
    return Message;
  }

private:
  std::string Message;
  bool Failed = false;
};

} // namespace dspjit

#endif
