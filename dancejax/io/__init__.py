"""Readers and writers.  Every reader returns a :class:`dancejax.io.sequence.PoseSequence`."""

from dancejax.io.aistpp import Camera, load_restricted_pickle, project, read_cameras, read_keypoints2d, read_keypoints3d
from dancejax.io.asf_amc import read_asf, read_asf_amc
from dancejax.io.bvh import CMU_BVH_SCALE, read_bvh, read_bvh_motion
from dancejax.io.jsonfmt import read_coco_keypoints, read_frames_json, read_npz, write_frames_json, write_npz

__all__ = [
    "Camera",
    "load_restricted_pickle",
    "project",
    "read_cameras",
    "read_keypoints2d",
    "read_keypoints3d",
    "read_asf",
    "read_asf_amc",
    "CMU_BVH_SCALE",
    "read_bvh",
    "read_bvh_motion",
    "read_coco_keypoints",
    "read_frames_json",
    "read_npz",
    "write_frames_json",
    "write_npz",
]
