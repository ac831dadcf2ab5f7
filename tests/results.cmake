# Results: decoding lines, collecting output + error files, batch runs.
oab_add_unit_test(test_result_decode test_result_decode.c)
oab_add_unit_test(test_results_files test_results_files.c)
oab_add_unit_test(test_results_job test_results_job.c)
