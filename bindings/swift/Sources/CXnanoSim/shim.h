/* CXnanoSim's one header: libxnano_sim's installed C header, found through pkg-config
   (xnano_sim.pc). */
#include <xnano_sim.h>
