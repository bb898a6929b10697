//! The sandbox world (issue 4): not yet implemented.
