//! Integration tests: aws.
