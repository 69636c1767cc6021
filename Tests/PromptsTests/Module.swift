// Tests for Prompts.
