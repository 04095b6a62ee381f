"""PortAudio's declarations for cffi, to run a kernel the way the Numba
blog runs a numba.cfunc: hand its compiled callback to Pa_OpenStream, so
that no interpreter runs in the audio thread. python-sounddevice does the
same underneath; it is not needed.

    import cffi, dspjit
    from dspjit.portaudio import CDEF, PA_FLOAT32
    ffi = cffi.FFI(); ffi.cdef(CDEF)
    pa = ffi.dlopen("libportaudio.so.2")

Only the declarations are here (a subset of portaudio.h, exactly as it
declares them); no code of dspjit's runs between PortAudio and the kernel.
"""

CDEF = """
typedef int PaError; typedef int PaDeviceIndex; typedef int PaHostApiIndex;
typedef double PaTime; typedef unsigned long PaSampleFormat;
typedef unsigned long PaStreamFlags; typedef unsigned long PaStreamCallbackFlags;
typedef void PaStream;
typedef struct PaStreamCallbackTimeInfo {
  PaTime inputBufferAdcTime; PaTime currentTime; PaTime outputBufferDacTime;
} PaStreamCallbackTimeInfo;
typedef int PaStreamCallback(const void *, void *, unsigned long,
  const PaStreamCallbackTimeInfo *, PaStreamCallbackFlags, void *);
typedef struct PaStreamParameters {
  PaDeviceIndex device; int channelCount; PaSampleFormat sampleFormat;
  PaTime suggestedLatency; void *hostApiSpecificStreamInfo;
} PaStreamParameters;
typedef struct PaDeviceInfo {
  int structVersion; const char *name; PaHostApiIndex hostApi;
  int maxInputChannels; int maxOutputChannels;
  PaTime defaultLowInputLatency; PaTime defaultLowOutputLatency;
  PaTime defaultHighInputLatency; PaTime defaultHighOutputLatency;
  double defaultSampleRate;
} PaDeviceInfo;
typedef struct PaHostApiInfo {
  int structVersion; int type; const char *name; int deviceCount;
  PaDeviceIndex defaultInputDevice; PaDeviceIndex defaultOutputDevice;
} PaHostApiInfo;
PaError Pa_Initialize(void);
PaError Pa_Terminate(void);
PaHostApiIndex Pa_HostApiTypeIdToHostApiIndex(int type);
const PaHostApiInfo *Pa_GetHostApiInfo(PaHostApiIndex api);
const PaDeviceInfo *Pa_GetDeviceInfo(PaDeviceIndex device);
PaError Pa_OpenDefaultStream(PaStream **stream, int inputs, int outputs,
  PaSampleFormat format, double rate, unsigned long frames,
  PaStreamCallback *callback, void *userData);
PaError Pa_OpenStream(PaStream **stream, const PaStreamParameters *in,
  const PaStreamParameters *out, double rate, unsigned long frames,
  PaStreamFlags flags, PaStreamCallback *callback, void *userData);
PaError Pa_StartStream(PaStream *stream);
PaError Pa_StopStream(PaStream *stream);
PaError Pa_CloseStream(PaStream *stream);
const char *Pa_GetErrorText(PaError error);
"""
PA_JACK = 12               # paJACK, a PaHostApiTypeId
PA_FLOAT32 = 1             # paFloat32: what a kernel's process() takes
PA_OUTPUT_UNDERFLOW = 4    # paOutputUnderflow, a PaStreamCallbackFlags bit
