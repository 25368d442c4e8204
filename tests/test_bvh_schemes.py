"""Any BVH: LSP-14 joints found by naming rules for every common scheme (real files of five
schemes in tests/fixtures/bvh_schemes, synthetic hierarchies for the rest of each class), joint
maps that override them, errors that name what is missing and the closest names, the unit
from the bone lengths whatever the first frame's pose, a byte-order mark, and ``dancejax train``
and ``predict`` on a folder of takes of every scheme."""

import json

import numpy as np
import pytest

from dancejax.cli import main as cli
from dancejax.data.user import from_folder, guess_scale, read_sequence
from dancejax.errors import DataError
from dancejax.io.bvh import read_bvh, read_bvh_motion
from dancejax.io.joint_names import auto_joint_map, read_joint_map, split_name
from dancejax.skeleton import LSP14

SCHEMES = "bvh_schemes"
REAL = {  # file -> (unit the bones give, the joint its head top comes from)
    "mixamo_freebvh.bvh": ("cm", "mixamorig:HeadTop_End"),
    "blender_rig.bvh": ("m", "face_end"),
    "leftright_plain.bvh": ("cm", "Head_end"),
    "smpl_cmu131.bvh": ("cmu", "Head_end"),
    "unity_cmu131.bvh": ("cmu", "Head_end"),
}


def skeleton(root: str, *chains: list[str]) -> tuple[list[str], list[int], set[str]]:
    """Names, parents and end sites of a root with limb chains (a name ending in '_end' is an end site)."""
    names, parents = [root], [-1]
    for chain in chains:
        prev = 0
        for n in chain:
            names.append(n)
            parents.append(prev)
            prev = len(names) - 1
    return names, parents, {n for n in names if n.endswith("_end")}


def limbs(fmt, leg, arm, neck, head, spine=("Spine",), collar=None, hand_end=False):
    """A humanoid whose left/right names come from ``fmt(side, part)``."""
    chains = []
    for side in ("L", "R"):
        chains.append([fmt(side, p) for p in leg])
        a = ([fmt(side, collar)] if collar else []) + [fmt(side, p) for p in arm]
        chains.append(list(spine) + a + ([a[-1] + "_end"] if hand_end else []))
    chains.append(list(spine) + [neck, head, head + "_end"])
    return chains


CLASSES = {
    "cmu_hahne": skeleton(
        "Hips",
        *limbs(
            lambda s, p: {"L": "Left", "R": "Right"}[s] + p,
            ["Hip", "Knee", "Ankle", "Toe"],
            ["Shoulder", "Elbow", "Wrist"],
            "Neck",
            "Head",
            collar="Collar",
        ),
    ),
    "cmu_cgspeed": skeleton(
        "Hips",
        *limbs(
            lambda s, p: {"L": "Left", "R": "Right"}[s] + p,
            ["UpLeg", "Leg", "Foot", "ToeBase"],
            ["Arm", "ForeArm", "Hand"],
            "Neck1",
            "Head",
            spine=("LowerBack", "Spine", "Spine1", "Neck"),
            collar="Shoulder",
        ),
    ),
    "mixamo": skeleton(
        "mixamorig:Hips",
        *limbs(
            lambda s, p: "mixamorig:" + {"L": "Left", "R": "Right"}[s] + p,
            ["UpLeg", "Leg", "Foot", "ToeBase"],
            ["Arm", "ForeArm", "Hand"],
            "mixamorig:Neck",
            "mixamorig:Head",
            spine=("mixamorig:Spine", "mixamorig:Spine1"),
            collar="Shoulder",
        ),
    ),
    "smpl": skeleton(
        "Pelvis",
        *limbs(
            lambda s, p: f"{s}_{p}",
            ["Hip", "Knee", "Ankle", "Foot"],
            ["Shoulder", "Elbow", "Wrist", "Hand"],
            "Neck",
            "Head",
            spine=("Spine1", "Spine2", "Spine3"),
            collar="Collar",
        ),
    ),
    "smplx_lower": skeleton(
        "pelvis",
        *limbs(
            lambda s, p: {"L": "left", "R": "right"}[s] + "_" + p,
            ["hip", "knee", "ankle", "foot"],
            ["shoulder", "elbow", "wrist"],
            "neck",
            "head",
            spine=("spine1", "spine2", "spine3"),
            collar="collar",
        ),
    ),
    "unity_bandai": skeleton(
        "joint_Root",
        *limbs(
            lambda s, p: f"{p}_{s}",
            ["UpperLeg", "LowerLeg", "Foot", "Toes"],
            ["UpperArm", "LowerArm", "Hand"],
            "Neck",
            "Head",
            spine=("Hips", "Spine", "Chest"),
            collar="Shoulder",
        ),
    ),
    "blender": skeleton(
        "pelvis",
        *limbs(
            lambda s, p: f"{p}.{s}",
            ["thigh", "shin", "foot"],
            ["upper_arm", "forearm"],
            "neck",
            "face",
            spine=("spine", "spine.001"),
            collar="shoulder",
            hand_end=True,
        ),
    ),
    "biped_3dsmax": skeleton(
        "Bip01",
        *limbs(
            lambda s, p: f"Bip01 {s} {p}",
            ["Thigh", "Calf", "Foot"],
            ["UpperArm", "Forearm", "Hand"],
            "Bip01 Neck",
            "Bip01 Head",
            spine=("Bip01 Pelvis", "Bip01 Spine"),
            collar="Clavicle",
        ),
    ),
    "acclaim_bones": skeleton(
        "root",
        *limbs(
            lambda s, p: s.lower() + p,
            ["femur", "tibia", "foot"],
            ["humerus", "radius", "wrist"],
            "upperneck",
            "head",
            spine=("lowerback", "upperback", "thorax"),
            collar="clavicle",
        ),
    ),
}
EXPECT = {  # per class, the names of l_hip, l_knee, l_ankle, l_shoulder, l_elbow, l_wrist, neck, head_top
    "cmu_hahne": "LeftHip LeftKnee LeftAnkle LeftShoulder LeftElbow LeftWrist Neck Head_end",
    "cmu_cgspeed": "LeftUpLeg LeftLeg LeftFoot LeftArm LeftForeArm LeftHand Neck Head_end",
    "mixamo": "mixamorig:LeftUpLeg mixamorig:LeftLeg mixamorig:LeftFoot mixamorig:LeftArm mixamorig:LeftForeArm "
    "mixamorig:LeftHand mixamorig:Neck mixamorig:Head_end",
    "smpl": "L_Hip L_Knee L_Ankle L_Shoulder L_Elbow L_Wrist Neck Head_end",
    "smplx_lower": "left_hip left_knee left_ankle left_shoulder left_elbow left_wrist neck head_end",
    "unity_bandai": "UpperLeg_L LowerLeg_L Foot_L UpperArm_L LowerArm_L Hand_L Neck Head_end",
    "blender": "thigh.L shin.L foot.L upper_arm.L forearm.L forearm.L_end neck face_end",
    "biped_3dsmax": "Bip01 L Thigh,Bip01 L Calf,Bip01 L Foot,Bip01 L UpperArm,Bip01 L Forearm,Bip01 L Hand,"
    "Bip01 Neck,Bip01 Head_end",
    "acclaim_bones": "lfemur ltibia lfoot lhumerus lradius lwrist upperneck head_end",
}


@pytest.mark.parametrize("scheme", sorted(CLASSES))
def test_naming_rules_find_the_lsp14_joints_of_each_scheme(scheme):
    names, parents, ends = CLASSES[scheme]
    got, missing = auto_joint_map(names, parents, ends)
    assert missing == []
    sep = "," if "," in EXPECT[scheme] else " "
    want = EXPECT[scheme].split(sep)
    left = ["l_hip", "l_knee", "l_ankle", "l_shoulder", "l_elbow", "l_wrist", "neck", "head_top"]
    assert [got[k] for k in left] == want
    for k in ("r_hip", "r_knee", "r_ankle", "r_shoulder", "r_elbow", "r_wrist"):  # the mirror image
        assert split_name(got[k])[0] == "r" or got[k].endswith("_end") and split_name(got[k][:-4])[0] == "r"


def test_split_name_reads_sides_and_parts():
    cases = {
        "mixamorig:LeftUpLeg": ("l", "upleg"),
        "RightForeArm": ("r", "forearm"),
        "L_Hip": ("l", "hip"),
        "right_wrist": ("r", "wrist"),
        "UpperLeg_L": ("l", "upperleg"),
        "thigh.R": ("r", "thigh"),
        "Bip01 L Calf": ("l", "calf"),
        "lhand": ("l", "hand"),
        "lowerback": (None, "lowerback"),  # an 'l' that is no side
        "LHipJoint": ("l", "hipjoint"),  # CMU's pelvis bone: no LSP-14 part
        "r_ankle": ("r", "ankle"),
        "head_top": (None, "headtop"),
    }
    assert {n: split_name(n) for n in cases} == cases


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_bvh_of_each_scheme_reads_as_a_standing_body_in_metres(fixtures, name):
    path = fixtures / SCHEMES / name
    logs = []
    seq = read_sequence(path, log=logs.append)
    unit, head = REAL[name]
    assert seq.layout == "lsp14" and seq.labels["units"] == "m"
    assert f"BVH in {unit} " in logs[0] and "ankle-to-head-top bones" in logs[0]
    assert seq.labels["joint_names"][LSP14.joints.index("head_top")] == head
    p = seq.positions
    y = np.median(p[..., 1], 0)
    j = {n: i for i, n in enumerate(LSP14.joints)}
    for side in "lr":  # feet below knees below hips below the neck below the head top
        assert y[j[f"{side}_ankle"]] < y[j[f"{side}_knee"]] < y[j[f"{side}_hip"]] < y[j["neck"]] < y[j["head_top"]]
    for a, b in (("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow"), ("elbow", "wrist")):
        bl = [np.linalg.norm(p[:, j[f"{s}_{a}"]] - p[:, j[f"{s}_{b}"]], axis=-1).mean() for s in "lr"]
        assert 0.1 < bl[0] < 0.6 and abs(bl[0] - bl[1]) < 0.1 * bl[0]  # metres, left and right alike
    height = y[j["head_top"]] - min(y[j["l_ankle"]], y[j["r_ankle"]])
    assert 1.0 < height < 2.1


def test_unit_comes_from_the_bones_not_the_first_frame(fixtures, tmp_path):
    """A take that starts lying down (or crouched): the first frame's height fits no unit, the bones do."""
    text = (fixtures / "131_01_head.bvh").read_text()
    head, motion = text.split("MOTION")
    lines = motion.strip().split("\n")
    first = lines[2].split()
    first[3:6] = ["0.0", "0.0", "90.0"]  # the root's Z, Y, X rotations: lying on its back
    path = tmp_path / "lying.bvh"
    path.write_text(head + "MOTION\n" + "\n".join(lines[:2] + [" ".join(first)] + lines[3:]) + "\n")
    seq = read_bvh(path, scale=None)
    assert abs(np.ptp(seq.positions[1, :, 1]) - 1.4) < 0.3  # the later frames stand, in metres
    with pytest.raises(DataError, match="fits no known unit"):
        guess_scale(read_bvh(path, scale=1.0).positions, path)  # what the first frame alone would say


def rename(fixtures, tmp_path, table):
    text = (fixtures / "131_01_head.bvh").read_text()
    for a, b in table.items():
        text = text.replace(f"JOINT {a}\n", f"JOINT {b}\n").replace(f"JOINT {a} ", f"JOINT {b} ")
    path = tmp_path / "odd.bvh"
    path.write_text(text)
    return path


def test_unmappable_bvh_names_what_is_missing_and_a_joint_map_fixes_it(fixtures, tmp_path):
    odd = {"LeftKnee": "jnt_knee_lft", "RightKnee": "jnt_knee_rgt"}
    path = rename(fixtures, tmp_path, odd)
    with pytest.raises(DataError) as e:
        read_sequence(path)
    msg = str(e.value)
    assert str(path) in msg and "'r_knee', 'l_knee'" in msg and "jnt_knee_lft" in msg and "--joint-map" in msg
    (tmp_path / "map.json").write_text(json.dumps({"l_knee": "jnt_knee_lft", "r_knee": "jnt_knee_rgt"}))
    (tmp_path / "map.csv").write_text("lsp14,joint\nl_knee,jnt_knee_lft\nr_knee,jnt_knee_rgt\n")
    want = read_sequence(fixtures / "131_01_head.bvh").positions
    for m in ("map.json", "map.csv"):
        got = read_sequence(path, joint_map=tmp_path / m)
        np.testing.assert_array_equal(got.positions, want)
    (tmp_path / "bad.json").write_text(json.dumps({"l_knee": "jnt_knee_left"}))
    with pytest.raises(DataError, match=r"'jnt_knee_left' for 'l_knee', which is not in the file; closest names: \["):
        read_sequence(path, joint_map=tmp_path / "bad.json")
    (tmp_path / "bad.json").write_text(json.dumps({"left_knee": "jnt_knee_lft"}))
    with pytest.raises(DataError, match=r"unknown LSP-14 joint\(s\) \['left_knee'\]"):
        read_joint_map(tmp_path / "bad.json")
    (tmp_path / "manifest.csv").write_text("file,style,joint_map\nodd.bvh,walk,map.csv\n")
    ds = from_folder(tmp_path, log=lambda m: None)
    np.testing.assert_allclose(ds.takes[0].positions[0], from_folder_ref(fixtures, tmp_path), atol=1e-6)


def from_folder_ref(fixtures, tmp_path):
    from dancejax.io.sequence import canonical

    return canonical(read_sequence(fixtures / "131_01_head.bvh")).positions[0]


def test_bvh_with_a_byte_order_mark_is_read(fixtures, tmp_path):
    text = (fixtures / "131_01_head.bvh").read_text()
    (tmp_path / "bom.bvh").write_bytes(b"\xef\xbb\xbf" + text.encode())
    a, b = read_bvh_motion(tmp_path / "bom.bvh"), read_bvh_motion(fixtures / "131_01_head.bvh")
    assert a.names == b.names
    np.testing.assert_array_equal(a.frames, b.frames)


def long_take(src, dest, seconds: float = 3.0):
    """A take of ``seconds`` from a short real excerpt: its frames played forward and back."""
    head, motion = src.read_text().split("MOTION")
    lines = motion.strip().split("\n")
    frame_time = float(lines[1].split()[-1])
    frames = lines[2:]
    n = int(round(seconds / frame_time))
    cycle = frames + frames[-2:0:-1]
    body = [cycle[i % len(cycle)] for i in range(n)]
    dest.write_text(head + f"MOTION\nFrames: {n}\nFrame Time: {frame_time}\n" + "\n".join(body) + "\n")


def test_train_and_predict_on_bvh_takes_of_every_scheme(fixtures, tmp_path, capsys):
    data = tmp_path / "takes"
    data.mkdir()
    rows = ["file,style,split"]
    for k, name in enumerate(sorted(REAL)):
        for split in ("train", "test"):
            long_take(fixtures / SCHEMES / name, data / f"{split}_{name}")
            rows.append(f"{split}_{name},{'a' if k % 2 else 'b'},{split}")
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    run = tmp_path / "run"
    args = ["--no-cache", "train", "--task", "prediction", "--preset", "test", "--data", str(data)]
    assert cli([*args, "--run", str(run), "--batch-size", "4", "--no-eval"]) == 0
    out = capsys.readouterr().out
    for name in REAL:
        assert f"train_{name}: BVH in {REAL[name][0]} " in out
    for name in sorted(REAL):
        dest = tmp_path / f"{name}.json"
        assert cli(["--no-cache", "predict", str(run), str(data / f"test_{name}"), "--out", str(dest)]) == 0
        doc = json.loads(dest.read_text())
        assert doc["joints"] == list(LSP14.joints) and len(doc["frames"]) == 10
