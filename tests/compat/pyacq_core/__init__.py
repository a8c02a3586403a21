"""pyacq's core test_tools.py in the form acqflow's streams take (adapted, each change said in
its header): the unchanged copy in tests/compat/pyacq_verbatim/core/tests uses pyacq 0.1's
'sharedarray' stream on a StreamConverter output and a non-contiguous splitter output."""
