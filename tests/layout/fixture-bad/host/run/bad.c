/* the run library reaching up into the command line */
#include "opt.h"
