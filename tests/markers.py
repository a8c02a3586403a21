"""Which tests are slow and which must not run beside each other (docs/testing.md, "Running
acqflow's tests"): tests/conftest.py marks the SLOW ones, and places the XDIST_GROUPS ones on
pytest-xdist workers (its scheduler reads them from the test ids, before any test module is
imported).  A test may also carry its own ``@pytest.mark.slow``.  Both tables name tests by
file and function, pyacq's unchanged files included, in one place to re-measure
(``--durations``); tests/test_testing.py checks that every entry names a test that exists.
"""
ALL = ("*",)

#: file (under tests/) -> its tests (function names: every parametrization) that take more
#: than about 2 s on the 2-core VM; ALL: the whole file.  `./run test --quick` leaves them out.
SLOW: dict[str, tuple[str, ...] | list[str]] = {
    "bench/test_soak.py": [
        "test_bench_soak_command_line",
        "test_closing_a_manager_closes_its_clients_to_the_group_processes",
        "test_soak_30s_no_loss_no_growth_no_leaks",
    ],
    "bench/test_startup.py": ["test_startup_bench_times_imports_and_the_readme_graph"],
    "bench/test_video.py": ["test_video_bench_rows_per_codec_and_references"],
    "bench/test_streams.py": [
        "test_ceilings_measure_something",
        "test_hops_command_line",
        "test_no_touch_with_ceilings_beside_sharedmem_and_large_tcp_rows",
        "test_overload_in_drop_mode_accounts_received_plus_dropped_against_sent",
    ],
    "compat/pyacq_core/test_tools.py": ALL,
    "compat/pyacq_verbatim/core/rpc/tests/test_rpc.py": ["test_disconnect"],
    "compat/pyacq_verbatim/core/rpc/tests/test_spawner.py": ["test_spawner"],
    "compat/pyacq_verbatim/core/stream/tests/test_sharedarray.py": ["test_sharedarray_multiprocess"],
    "compat/pyacq_verbatim/core/tests/test_host.py": ["test_host1"],
    "compat/pyacq_verbatim/core/tests/test_manager.py": ALL,
    "compat/pyacq_verbatim/core/tests/test_node.py": ALL,
    "compat/pyacq_verbatim/core/tests/test_nodegroup.py": ["test_register_node_type_from_module"],
    "compat/pyacq_verbatim/core/tests/test_tools.py": ["test_ThreadPollInput"],
    "compat/pyacq_verbatim/devices/tests/test_npbufferdevice.py": ["test_npbufferdevice"],
    "compat/pyacq_verbatim/dsp/tests/test_overlapfiltfilt.py": ["test_sosfilter"],
    "compat/pyacq_verbatim/dsp/tests/test_sosfilter.py": ["test_sosfilter"],
    "compat/pyacq_verbatim/dsp/tests/test_trigger.py": ALL,
    "compat/pyacq_verbatim/dsp/tests/test_triggeraccumulator.py": ["test_TriggerAccumulator"],
    "compat/pyacq_verbatim/rec/tests/test_rawrecorder.py": ["test_RawRecorder"],
    "compat/pyacq_verbatim/viewers/test/test_imageviewer.py": ["test_imageviewer"],
    "compat/pyacq_verbatim/viewers/test/test_qdigitaloscilloscope.py": ["test_QDigitalOscilloscope"],
    "compat/pyacq_verbatim/viewers/test/test_qtimefreq.py": ALL,
    "compat/pyacq_verbatim/viewers/test/test_qtoscilloscope.py": ALL,
    "compat/pyacq_verbatim/viewers/test/test_qtoscilloscopemultiplot.py": ["test_qoscilloscopemultiplot1"],
    "compat/pyacq_verbatim/viewers/test/test_qtriggeredoscilloscope.py": ["test_QTriggeredOscilloscope"],
    "compat/test_pyacq_examples.py": [
        "test_noise_generator",
        "test_simple_input_node",
    ],
    "compat/test_pyacq_nodes.py": [
        "test_AnalogTrigger_after_stable",
        "test_AnalogTrigger_before_stable",
        "test_AnalogTrigger_nodebounce",
        "test_TriggerAccumulator",
        "test_overlapfiltfilt",
        "test_pyacq_trigger_feeds_acqflow_epocher",
    ],
    "compat/test_pyacq_verbatim_gaps.py": ["test_pth_makes_pyacq_importable_in_any_process_and_is_removed"],
    "compat/test_pyacq_viewers.py": [
        "test_QTriggeredOscilloscope",
        "test_qtimefreq_local_worker",
    ],
    "dataflow/test_wakeup.py": [
        "test_a_reader_whose_fifo_filled_up_still_wakes_for_the_next_chunk",
        "test_many_reader_processes_lose_nothing",
    ],
    "devices/test_brainflow.py": [
        "test_playback_file_board_replays_the_file",
        "test_synthetic_board_outputs_and_metadata",
    ],
    "devices/test_lsl.py": ["test_marker_stream_becomes_events"],
    "devices/test_synthetic.py": ["test_pacing_over_10_s_has_no_drift"],
    "lsl/test_fidelity.py": [
        "test_default_source_id_is_stable_and_consumers_recover",
        "test_liblsl_info_lines_stay_off_stderr",
    ],
    "lsl/test_record.py": [
        "test_cli_records_until_ctrl_c_and_commits",
        "test_multichannel_string_stream_is_skipped_with_a_warning",
        "test_records_every_stream_with_metadata_stamps_and_offsets",
        "test_watch_adds_late_streams_and_continues_after_a_gap",
    ],
    "manager/test_graph.py": [
        "test_run_holds_a_cpu_latency_request_while_the_graph_runs",
        "test_run_shows_table_and_stops_cleanly_on_sigterm",
        "test_run_with_monitor_window_runs_and_stops",
        "test_run_with_sharedmem_streams_releases_segments",
    ],
    "manager/test_manager.py": ["test_restart_policy_recreates_and_reconnects"],
    "manager/test_remote.py": ["test_a_graph_reaches_a_local_daemon_by_its_ipc_address"],
    "manager/test_run_bad_input.py": [
        "test_long_chain_has_no_recursion_error",
        "test_node_error_at_build_time_is_one_line_and_debug_shows_the_traceback",
    ],
    "manager/test_run_interrupted.py": ["test_interrupted_start_up_leaves_nothing_and_the_graph_runs_again"],
    "manager/test_shutdown.py": ["test_signal_to_the_process_group_commits_the_recording"],
    "multihost/test_clock_netns.py": ["test_clock_offset_and_aligned_recording_across_two_hosts"],
    "multihost/test_faults.py": [
        "test_group_process_killed_on_a_reachable_host_reports_its_exit",
        "test_killed_daemon_is_detected_and_the_restart_policy_brings_the_group_back",
        "test_link_down_is_detected_local_groups_run_on_and_the_group_restarts_after",
    ],
    "multihost/test_netem.py": ALL,
    "nodes/test_docs.py": ["test_snippets_run"],
    "nodes/test_epochs_lsl.py": ["test_lsl_markers_epoch_at_their_sample"],
    "nodes/test_graph_run.py": ["test_graph_of_processing_nodes_runs_across_processes"],
    "nodes/test_safeexpr_bounds.py": ["test_random_expressions_stay_bounded"],
    "recording/test_cli.py": ["test_upload_then_info_on_s3"],
    "recording/test_crash.py": ["test_random_sigkills_of_recorder_process"],
    "recording/test_player.py": ["test_close_does_not_hang_on_a_stalled_blocking_reader"],
    "recording/test_recorder_naming.py": ["test_the_name_survives_restarts_of_the_recorder_group"],
    "recording/test_recorder_restart.py": ALL,
    "recording/test_video_crash.py": ["test_sigkill_at_random_moments_every_sealed_frame_decodes"],
    "rpc/test_client_server.py": ["test_timeout_raises"],
    "rpc/test_fuzz.py": ["test_atheris_decoder_fuzz"],
    "rpc/test_hostdaemon.py": ["test_two_hosts_with_different_key_directories_from_one_process"],
    "rpc/test_local_isolation.py": [
        "test_a_default_stream_is_out_of_reach",
        "test_default_rpc_servers_and_children_run_nothing_for_a_stranger",
        "test_the_default_host_daemon_runs_nothing_for_a_stranger",
    ],
    "rpc/test_netns.py": ["test_spawn_on_remote_host_through_daemon"],
    "rpc/test_refcount.py": ["test_no_leak_over_10000_proxies"],
    "rpc/test_security.py": ["test_curve_server_accepts_authorised_and_refuses_others"],
    "rpc/test_syncpath.py": ["test_timeouts_shorter_and_longer_than_a_wait_step"],
    "storage/test_align.py": [           # the three clocks' 10-minute recording (module fixture)
        "test_exports_write_the_common_clock",
        "test_readers_and_merge_in_common_time",
        "test_three_devices_on_one_clock",
    ],
    "storage/test_cache.py": ["test_two_processes_share_one_cache"],
    "storage/test_crash.py": ["test_random_sigkills"],
    "storage/test_damage.py": ["test_random_byte_flips_in_segments"],
    "storage/test_dask.py": ["test_many_recordings_on_a_distributed_cluster"],
    "storage/test_xdf_import.py": ALL,   # LabRecorder's file (module fixture); test_xdf_robust stays
    "storage/test_xdf_robust.py": [
        "test_every_truncation_imports_every_complete_chunk",
        "test_fuzzed_files_under_a_memory_limit",
        "test_lsl_record_cuts_marker_labels_at_a_character_boundary",
    ],
    "test_api_reference.py": ["test_the_api_reference_builds_with_warnings_as_errors"],
    "test_cli.py": [
        "test_bench_double_ring_option",
        "test_bench_writes_json",
        "test_demo_runs_its_graph_and_summarises_the_recording",
        "test_demo_with_viewer_feeds_an_oscilloscope_in_a_qt_process",
    ],
    "test_cli_messages.py": [
        "test_remote_url_without_storage_options_is_one_line",
        "test_the_demo_removes_its_temporary_recording_unless_kept",
    ],
    "test_cli_startup.py": ["test_run_prints_its_progress_before_the_first_table"],
    "test_examples.py": [
        "test_devices_lsl",
        "test_erp_lsl",
        "test_nodes_custom",
        "test_nodes_filters",
        "test_readme_graph_file_runs",
        "test_record_h264",
        "test_recording_roundtrip",
        "test_recording_video_events",
        "test_streams_closed_loop",
        "test_two_cameras_eeg",
        "test_viewers_panel",
        "test_viewers_qt_group",
    ],
    "test_examples_sigint.py": ["test_ctrl_c_ends_the_example_cleanly"],
    "test_plain_install.py": [
        "test_demo_runs_without_extras",
        "test_every_package_imports_without_extras",
    ],
    "test_run_script.py": ["test_system_packages_hold_the_xcb_plugins_libraries"],
    "test_typing.py": ["test_mypy_is_clean"],
    "viewers/test_digital_timefreq.py": ["test_time_frequency_image_is_bright_at_the_signal_frequency"],
    "viewers/test_params.py": ["test_timefrequency_params_columns_colormap_refresh"],
    "viewers/test_spawned.py": ["test_manager_qt_group_viewer_and_the_graph_monitor"],
    "web/test_abuse.py": [
        "test_descriptor_exhaustion_is_logged_once_and_the_controls_answer",
        "test_idle_connections_past_the_cap_leave_the_controls_reachable",
        "test_websocket_clients_that_never_read_do_not_delay_the_others",
    ],
    "web/test_api.py": [
        "test_a_dead_group_is_refused_for_its_nodes_and_rebuilt_by_a_group_restart",
        "test_cli_run_web_flag",
        "test_graph_lists_nodes_groups_and_connections",
    ],
    "web/test_browser.py": [
        "test_acqflow_demo_web_end_to_end",
        "test_page_lists_every_node_and_rates_update",
    ],
}

#: path (under tests/: a file, a directory/, or file::test) -> xdist group.  Under `./run test`
#: (2 pytest-xdist workers, --dist loadgroup) one worker runs a group's tests one after another.
#: Every test with "lsl" in its id is in the "lsl" group too.  (pytest-xdist's own
#: @pytest.mark.xdist_group has no effect under pytest 9: tests/conftest.py.)
XDIST_GROUPS = {
    # LSL discovery sees every outlet on the machine: a test that expects to see none, or one
    # name once, must not meet another test's outlets
    "lsl/": "lsl",
    "devices/test_lsl.py": "lsl",
    "nodes/test_epochs_lsl.py": "lsl",
    "storage/test_xdf_import.py": "lsl",
    # network namespaces, veth pairs and qdiscs of the host's network stack
    "rpc/test_netns.py": "netns",
    "multihost/test_clock_netns.py": "netns",
    "multihost/test_faults.py": "netns",
    "multihost/test_netem.py": "netns",
    # a second local user (useradd)
    "rpc/test_local_isolation.py": "second-user",
    "rpc/test_hardening.py::test_another_user_cannot_connect": "second-user",
    # pyacq's own tests, unchanged: they serve RPC from the main thread and start a log server at
    # import; one worker runs them in pyacq's order
    "compat/pyacq_verbatim/": "pyacq-verbatim",
    # pyacq's test_rpc.py starts a log server when imported (every worker collects it); the
    # group's module teardown stops it, as it does before these tests in one process
    "rpc/test_log.py": "pyacq-verbatim",
    # files whose module fixture is expensive (a fresh venv, a running graph and its monitor):
    # on one worker it is set up once (split over two, the venv alone took 75 s more)
    "test_plain_install.py": "plain-venv",
    "web/test_api.py": "web-api",
    "web/test_abuse.py": "web-abuse",
    "web/test_browser.py": "web-browser",
    "storage/test_align.py": "align",
    "recording/test_export_times_live.py": "export-times-live",
}


def _matches(rel: str, name: str, key: str) -> bool:
    return rel == key or f"{rel}::{name}" == key or (key.endswith("/") and rel.startswith(key))


def is_slow(rel: str, name: str) -> bool:
    """Whether the test function ``name`` of ``rel`` (a path under tests/) is in SLOW."""
    names = SLOW.get(rel, ())
    return names is ALL or name in names


def group_of_nodeid(nodeid: str) -> str | None:
    """The XDIST_GROUPS group of the test ``tests/FILE::NAME[PARAMS]``, or None."""
    path, _, rest = nodeid.partition("::")
    rel = path.removeprefix("tests/")
    name = rest.split("[")[0].split("::")[-1]
    group = next((g for key, g in XDIST_GROUPS.items() if _matches(rel, name, key)), None)
    return group or ("lsl" if "lsl" in nodeid.lower() else None)
