//! Live DNS observation (issue 6): not yet implemented.
