/* Fixture: the map library reaching up into the firmware it serves. */
#include "nicsim/fw_maps.h"
#include "nicsim/fw_hal.h"
