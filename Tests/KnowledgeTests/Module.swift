// Tests for Knowledge.
