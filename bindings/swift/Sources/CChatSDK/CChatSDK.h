/* CChatSDK.h - umbrella header of the CChatSDK clang module (module.modulemap).
 * Only includes the C API; chatsdk.h itself stays the one contract. */
#ifndef CCHATSDK_H
#define CCHATSDK_H
#include "chatsdk/chatsdk.h"
#endif
