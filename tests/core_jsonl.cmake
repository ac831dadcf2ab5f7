# One idea of a line: the JSONL reader, the validator and the splitter.
oab_add_unit_test(test_core_jsonl_lines test_core_jsonl_lines.c)
