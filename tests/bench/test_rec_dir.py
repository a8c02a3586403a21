"""`acqflow bench --rec --dir DIR` writes in a fresh directory inside DIR and removes only that."""
from acqflow.bench.rec import bench_long_reads, bench_recorder


def test_rec_bench_leaves_the_given_directory_and_its_files(tmp_path):
    mine = tmp_path / "data"
    mine.mkdir()
    (mine / "session1.txt").write_text("precious")
    r = bench_recorder(2.0, 0.2, 2, dirname=str(mine))
    assert r["committed"] and r["samples"] == r["expected"]
    bench_long_reads(0.001, 2, "int16", 2, dirname=str(mine), drop_cache=False)
    assert sorted(p.name for p in mine.iterdir()) == ["session1.txt"]
    assert (mine / "session1.txt").read_text() == "precious"
