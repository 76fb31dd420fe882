/* Fixture: a header no layer claims. */
#include "nicsim/isa.h"
