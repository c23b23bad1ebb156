// The one libstdc++ function that TorchSharp's native glue (built with GCC 13) needs from
// GLIBCXX_3.4.32 and that GCC 12's libstdc++ (Debian 12, Ubuntu 22.04) lacks. GCC 13 calls it from
// every file that includes <iostream> only to make sure the standard streams are initialised;
// a static ios_base::Init does exactly that. Built WITHOUT symbol versioning on purpose: an
// unversioned definition satisfies the versioned reference once that reference is marked weak
// (see TorchSharpNative.targets).
#include <ios>

namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
