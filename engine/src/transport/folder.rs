//! A local folder as a file store (a share customers drop files on; fixtures for tests). Filled in by issue 11.
