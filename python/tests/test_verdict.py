"""The shipping rule of issue 22 (`evaluation/verdict.py`) on small made-up results."""
import copy
import json

import pytest

from strobe_training.evaluation.verdict import Incomparable, beats, check_comparable, main, rows


def result(acc=0.9, held=0.9, fd=700.0, naive_fd=900.0, seams=None, variety=0.8, flash1=0.88,
           position=0.6, colour=0.9, validation=0.99) -> dict:
    return {
        "flash_1": {"accuracy": flash1},
        "flash_4": {"accuracy": acc, "accuracy_heldout": held, "fd": fd,
                    "seam_ratio": seams or {"16": 2.7}, "variety_ratio": {"all": variety}},
        "naive_4": {"fd": naive_fd},
        "meta": {"scenes": 24, "heldout_scenes": 8, "heldout_per_combination": 1, "seeds": {"scenes": 0},
                 "classifier": {"recipe": {"epochs": 8}, "validation_accuracy": {"terrain": validation}},
                 "per_mode": {"flash_4": {"groups": {"position": position, "colour": colour}}}},
    }


V1 = result()


def test_a_v2_better_on_all_four_ships():
    v2 = result(acc=0.94, held=0.9, fd=400, seams={"2": 0.9, "32": 1.1}, variety=0.85)
    assert beats(V1, v2) == {"seams": True, "fd": True, "variety": True, "accuracy": True}


def test_each_measure_can_keep_v1():
    assert not beats(V1, result(acc=0.94, fd=400, seams={"32": 1.1}, variety=0.79))["variety"]
    assert not beats(V1, result(acc=0.94, fd=701, seams={"32": 1.1}, variety=0.9))["fd"]
    # the worst grid counts, not the best
    assert not beats(V1, result(acc=0.94, fd=400, seams={"2": 0.9, "32": 2.8}, variety=0.9))["seams"]
    # higher in distribution but lower held out: not better
    assert not beats(V1, result(acc=0.95, held=0.85, fd=400, seams={"32": 1.1}, variety=0.9))["accuracy"]
    assert not beats(V1, result(acc=0.90, held=0.95))["accuracy"]      # equal is not better


def test_a_missing_measure_does_not_ship():
    v2 = result(acc=0.94, fd=400, seams={"32": 1.1}, variety=0.9)
    v2["flash_4"]["variety_ratio"] = None
    assert beats(V1, v2)["variety"] is False


def test_rows_fill_in_the_issue_table_against_its_targets():
    v2 = result(acc=0.94, held=0.87, fd=280, naive_fd=400, seams={"2": 0.9, "32": 1.2}, position=0.86)
    table = {r.name: r for r in rows(V1, v2)}
    assert table["seam ratio flash 4, worst grid"].v2 == 1.2
    assert table["seam ratio flash 4, worst grid"].met is False          # ≤ 1.15
    assert table["FD flash 4"].met is True                               # ≤ 300
    assert table["FD flash 4 ÷ FD naive 4"].v2 == pytest.approx(0.7)
    assert table["accuracy flash 4, held out"].met is False              # ≥ 0.88
    assert table["object position, flash 4"].met is True
    assert table["accuracy flash 4, in distribution"].v1 == 0.9


def test_results_of_other_scenes_or_another_classifier_are_refused():
    other = copy.deepcopy(V1)
    other["meta"]["scenes"] = 27
    with pytest.raises(Incomparable, match="scenes"):
        check_comparable(V1, other)
    retrained = result(validation=0.98)
    with pytest.raises(Incomparable, match="trained anew in between .its validation"):
        check_comparable(V1, retrained)
    check_comparable(V1, result(acc=0.5))
    # Where both name their classifier's weights, the fingerprints decide.
    a, b = copy.deepcopy(V1), result(validation=0.5)
    a["meta"]["classifier"]["weights_sha256"] = b["meta"]["classifier"]["weights_sha256"] = "0123456789ab"
    check_comparable(a, b)
    b["meta"]["classifier"]["weights_sha256"] = "ba9876543210"
    with pytest.raises(Incomparable, match="weights differ"):
        check_comparable(a, b)


def test_the_command_exits_by_the_verdict(tmp_path, capsys):
    paths = {}
    for name, r in {"v1": V1, "good": result(acc=0.94, fd=400, seams={"32": 1.1}, variety=0.9),
                    "bad": result(acc=0.5), "other": result(validation=0.5)}.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(r))
    assert main([str(paths["v1"]), str(paths["good"]), "--markdown", str(tmp_path / "v.md")]) == 0
    assert "verdict: ship v2" in (tmp_path / "v.md").read_text()
    assert main([str(paths["v1"]), str(paths["bad"])]) == 1
    assert "verdict: keep v1" in capsys.readouterr().out
    assert main([str(paths["v1"]), str(paths["other"])]) == 2
