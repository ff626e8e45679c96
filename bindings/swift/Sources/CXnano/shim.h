/* CXnano's one header: libxnano's installed C header, found through pkg-config (xnano.pc). */
#include <xnano.h>
