"""Where the bundled libxnano was built.

setup.py rewrites this file in the built package with the directory it
copied libxnano from (cargo's target/<profile>, or the directory of
$XNANO_PREBUILT_LIB); in the source tree it is None. Nothing here is
loaded or needed at run time: `xnano.sim` looks in that directory for a
libxnano_sim built alongside (the dev build), after $XNANO_SIM_LIB and the
directory of the loaded libxnano.
"""

from typing import Optional

#: The directory the bundled libxnano was copied from at build time.
BUILD_DIR: Optional[str] = None
