/*===- runtime/dspjit_abi.h - The contract between generated code and host -===*
 *
 * This header is the whole contract between a kernel that the dspjit compiler
 * generates and the host that runs it. Both sides include it: the host reads
 * the structures below, and the code generator lays out exactly the same
 * structures in LLVM IR (tests/unit/abi_test.cpp checks that they agree).
 *
 * A compiled script exports one symbol, `dspjit_kernel`, a DspjitKernel that
 * describes the kernel and points at its two functions:
 *
 *   - `process` has PortAudio's exact PaStreamCallback signature and can be
 *     handed to Pa_OpenStream as it is. Its userData is the instance. Buffers
 *     are interleaved float32. It flushes denormals for its own duration and
 *     never lets a non-finite sample reach the output.
 *   - `init` resets an instance: parameters to their defaults, state to its
 *     initial values, delay lines to silence.
 *
 * An instance is one block of `instance_size` bytes, aligned to
 * `instance_align`, allocated (zeroed) by the host before `init`. Everything
 * the kernel touches lives in it; `process` never allocates.
 *
 * Thread contract: `process` runs on the audio thread. `init` must not run
 * concurrently with `process` on the same instance. The host may write a
 * parameter's target (a 32-bit float store, atomic on every supported CPU)
 * and read meters and the header counters from any thread at any time.
 *===----------------------------------------------------------------------===*/
#ifndef DSPJIT_ABI_H
#define DSPJIT_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a structure below changes shape. */
#define DSPJIT_ABI_VERSION 3

/* Name of the one symbol a compiled kernel exports. */
#define DSPJIT_KERNEL_SYMBOL "dspjit_kernel"

/* Mirrors PortAudio's PaStreamCallbackTimeInfo, so that this header does not
 * depend on portaudio.h; runtime/PortAudio.cpp checks the two are identical. */
typedef struct DspjitTimeInfo {
  double inputBufferAdcTime;
  double currentTime;
  double outputBufferDacTime;
} DspjitTimeInfo;

/* Exactly PaStreamCallback: (input, output, frameCount, timeInfo, statusFlags,
 * userData) -> paContinue (0). */
typedef int (*DspjitProcessFn)(const void *input, void *output,
                               unsigned long frameCount,
                               const DspjitTimeInfo *timeInfo,
                               unsigned long statusFlags, void *userData);

/* Resets the instance for `sampleRate`. Returns 0, or -1 when the kernel was
 * compiled for another rate (kernels are specialized to their rate). */
typedef int (*DspjitInitFn)(void *instance, double sampleRate);

/* The first bytes of every instance. The kernel updates the counters;
 * the host may read them at any time. */
typedef struct DspjitInstanceHeader {
  uint64_t frames_processed;  /* frames seen by process() since init */
  uint64_t callbacks;         /* process() calls since init */
  uint64_t nonfinite_samples; /* output samples replaced by silence */
  uint64_t reserved[5];
} DspjitInstanceHeader;

/* What a slot of the instance holds. */
enum DspjitSlotKind {
  DSPJIT_SLOT_PARAM = 0, /* float target (host writes) + float value */
  DSPJIT_SLOT_METER = 1, /* float[width] (kernel writes, host reads) */
  DSPJIT_SLOT_STATE = 2, /* element[count * width], persistent */
  DSPJIT_SLOT_DELAY = 3, /* ring of element[capacity * width] + position */
  DSPJIT_SLOT_NOTE = 4   /* float[width], one lane per voice (host writes) */
};

/* An instrument (`voices N;`) runs its N voices side by side, one lane of
 * every vector per voice. The host's voice allocator tells the kernel what
 * each voice plays through six NOTE slots of N floats each, which it writes
 * between process() calls (never during one):
 *
 *   "note.freq"      Hz, pitch bend applied
 *   "note.key"       MIDI key, 0 to 127
 *   "note.velocity"  0 to 1
 *   "note.gate"      1 while the key is held (or sustained), else 0
 *   "note.trigger"   1 for the note's first frame: the host sets it, and the
 *                    kernel clears it after the first frame it processes
 *   "note.pressure"  aftertouch, 0 to 1
 *
 * and reads back one METER slot, "voice.peak": each voice's largest
 * magnitude in voicemix() over the last process() call (the kernel starts
 * it from 0 at every call), by which a released voice that has gone quiet
 * is known to be free. */

/* A parameter's MIDI mapping as declared in the script (`midi cc 74 ch 2`):
 * kind in bits 16-23, channel in bits 8-15 (0: any, else 1 to 16), the
 * controller number in bits 0-7. 0 means no mapping. */
enum DspjitMidiKind {
  DSPJIT_MIDI_NONE = 0,
  DSPJIT_MIDI_CC = 1,        /* controller 0 to 127 */
  DSPJIT_MIDI_BEND = 2,      /* pitch bend */
  DSPJIT_MIDI_AFTERTOUCH = 3 /* channel pressure */
};
#define DSPJIT_MIDI_KIND(m) (((m) >> 16) & 0xffu)
#define DSPJIT_MIDI_CHANNEL(m) (((m) >> 8) & 0xffu)
#define DSPJIT_MIDI_NUMBER(m) ((m) & 0xffu)

/* One entry of the slot table: where a named thing lives in the instance.
 * Offsets are in bytes from the start of the instance. */
typedef struct DspjitSlot {
  const char *name;      /* "feedback", or a call-site path "process/lp#1/z" */
  uint32_t kind;         /* enum DspjitSlotKind */
  uint32_t width;        /* lanes per element */
  uint32_t count;        /* elements (1 unless `state x[N]`) */
  uint32_t elem_size;    /* bytes per lane: 4, or 8 when compiled --double */
  uint32_t offset;       /* params: the float target the host writes;
                            others: the data */
  uint32_t value_offset; /* params: the float smoothed value in use;
                            delays: the uint32 write position */
  uint32_t capacity;     /* delays: ring length in frames (a power of two) */
  uint32_t length;       /* delays: longest tap in frames */
  float def, min, max;   /* params: default and range */
  float smooth_seconds;  /* params: smoothing time (0 = none) */
  const char *unit;      /* params: "", "hz", "s", "ms", "db" or "%" */
  uint32_t midi;         /* params: the declared MIDI mapping (above) */
} DspjitSlot;

/* The kernel descriptor exported as `dspjit_kernel`. */
typedef struct DspjitKernel {
  uint32_t abi_version; /* DSPJIT_ABI_VERSION */
  uint32_t inputs;      /* input channels (`io N -> M`) */
  uint32_t outputs;     /* output channels */
  uint32_t num_slots;
  uint32_t voices; /* `voices N;`: N, else 0 (not an instrument) */
  uint64_t instance_size;
  uint64_t instance_align;
  double sample_rate; /* the rate the kernel is specialized to */
  const DspjitSlot *slots;
  DspjitProcessFn process;
  DspjitInitFn init;
  double latency_frames; /* what `oversample` blocks delay the output by, in
                            frames (0 without them; dsl/LANGUAGE.md) */
} DspjitKernel;

/* `convolve(x, ir)` (dsl/LANGUAGE.md, "convolve"). For each call site the
 * kernel holds a plan, constant data that the compiler prepared with
 * runtime/Convolver.h (opaque to the kernel, 64-byte aligned: the impulse
 * response's partitions and spectra), and the instance holds the call's
 * state, a 64-byte aligned block of the size the plan was made for. The
 * host provides these two functions; the JIT resolves them by name. */

/* Resets the state (history to silence) and makes the FFT plans it needs.
 * Thread: `init`'s, never the audio thread (it locks and may allocate). */
void dspjit_convolve_init(const void *plan, void *state);

/* One frame: reads one float per input lane, writes one per output lane.
 * Thread: the audio thread; no allocation, no lock. */
void dspjit_convolve_frame(const void *plan, void *state, const float *in,
                           float *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DSPJIT_ABI_H */
