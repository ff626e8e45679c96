//! SmartGlass crypto (to be written).
