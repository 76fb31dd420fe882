/* Fixture for layout.layers_rejects_upward: the hardware reaching up into the emulated kernel. */
#include "nicsim/core.h"
#include "nicsim/kern.h"
