//! Being written: see the module list in `zab`.
