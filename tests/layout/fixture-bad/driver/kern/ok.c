/* Fixture: a driver file including downwards only (must not be reported). */
#include "nicsim/isa.h"
#include "nicsim/kern.h"
#include "nicsim/fw_maps.h"
