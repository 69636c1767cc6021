// Tests for Assistant.
