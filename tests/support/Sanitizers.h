//===- tests/support/Sanitizers.h - What the test build is instrumented with -*- C++ -*-===//
//
// Under AddressSanitizer freed memory waits in a quarantine (256 MiB by
// default) before it is reused, so a process's VmRSS grows without a leak:
// tests that bound memory growth record the figure there instead of
// asserting it (LeakSanitizer checks the child at exit). The dspjit binary
// a test runs is built with the same flags as the test.
//
//===----------------------------------------------------------------------===//
#ifndef DSPJIT_TESTS_SUPPORT_SANITIZERS_H
#define DSPJIT_TESTS_SUPPORT_SANITIZERS_H

namespace dspjit::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool UnderAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool UnderAsan = true;
#else
inline constexpr bool UnderAsan = false;
#endif
#else
inline constexpr bool UnderAsan = false;
#endif

} // namespace dspjit::test

#endif
