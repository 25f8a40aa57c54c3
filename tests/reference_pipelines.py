"""The official GHOST and inswapper inference steps, re-implemented for the parity tests.

Written from the behaviour of the public code, not copied from it: ai-forever/ghost ``inference.py`` with
``utils/inference/{core,image_processing,masks,faceshifter_run}.py`` and the insightface 0.2.1
``utils/face_align.py`` GHOST pins; insightface's ``model_zoo/{inswapper,scrfd,arcface_onnx}.py`` and the
current ``utils/face_align.py`` (``norm_crop2``). Networks are ONNX Runtime sessions of the stand-in graphs
(tests/onnx_graphs.py), run on the same arrays the reference would hand them. Deliberately independent of
ghostlive: its own similarity fit (linear least squares), its own blobs, its own decoding.
"""

from __future__ import annotations

import cv2
import numpy as np
import onnxruntime as ort

# insightface 0.2.1 face_align: five pose templates at 112 px, float32 (GHOST uses them ×2 at 224)
GHOST_SRC_112 = np.array(
    [
        [[51.642, 50.115], [57.617, 49.990], [35.740, 69.007], [51.157, 89.050], [57.025, 89.702]],
        [[45.031, 50.118], [65.568, 50.872], [39.677, 68.111], [45.177, 86.190], [64.246, 86.758]],
        [[39.730, 51.138], [72.270, 51.138], [56.000, 68.493], [42.463, 87.010], [69.537, 87.010]],
        [[46.845, 50.872], [67.382, 50.118], [72.737, 68.111], [48.167, 86.758], [67.236, 86.190]],
        [[54.796, 49.990], [60.771, 50.115], [76.673, 69.007], [55.388, 89.702], [61.257, 89.050]],
    ],
    np.float32,
)
ARCFACE_DST = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    np.float32,
)


def session(model: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def run1(sess: ort.InferenceSession, *arrays: np.ndarray) -> np.ndarray:
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, arrays, strict=True)))[0]


def lstsq_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The least-squares similarity src → dst as a linear problem in (a, b, tx, ty): x' = a·x − b·y + tx,
    y' = b·x + a·y + ty (what skimage's SimilarityTransform.estimate finds)."""
    s, d = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    rows = []
    for x, y in s:
        rows += [[x, -y, 1, 0], [y, x, 0, 1]]
    a, b, tx, ty = np.linalg.lstsq(np.array(rows), d.reshape(-1), rcond=None)[0]
    return np.array([[a, -b, tx], [b, a, ty]])


# GHOST ----------------------------------------------------------------------------------------------------
def ghost_estimate_norm(kps: np.ndarray, size: int = 224) -> np.ndarray:
    """insightface 0.2.1 estimate_norm(kps, 224, mode='None'): the pose template fitted with the smallest
    summed point distance wins (first one on ties)."""
    best, best_err = None, float("inf")
    for t in GHOST_SRC_112 * np.float32(size // 112):
        m = lstsq_similarity(kps, t)
        err = float(np.sqrt((((np.c_[kps, np.ones(5)] @ m.T) - t) ** 2).sum(1)).sum())
        if err < best_err:
            best, best_err = m, err
    return best


def ghost_crop(img: np.ndarray, kps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = ghost_estimate_norm(kps)
    return cv2.warpAffine(img, m, (224, 224), borderValue=0.0), m


def ghost_identity(arc: ort.InferenceSession, crop_bgr: np.ndarray) -> np.ndarray:
    """GHOST's source embedding: the crop flipped to RGB, /255, (x − 0.5)/0.5, bilinear ×0.5 with
    align_corners=True (torch), ArcFace, raw."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    x = torch.tensor(crop_bgr[:, :, ::-1].copy(), dtype=torch.float32) / 255.0
    x = (x.permute(2, 0, 1)[None] - 0.5) / 0.5
    x = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=True)
    return run1(arc, x.numpy())


def ghost_generator_input(crop_bgr: np.ndarray) -> np.ndarray:
    """core.transform_target_to_torch on cv2.resize(crop, 256): BGR → RGB, /255, (x − 0.5)/0.5, NCHW."""
    x = cv2.resize(crop_bgr, (256, 256))[None, :, :, [2, 1, 0]].astype(np.float32) / 255.0
    return ((x - 0.5) / 0.5).transpose(0, 3, 1, 2)


def ghost_generate(gen: ort.InferenceSession, crop_bgr: np.ndarray, identity: np.ndarray) -> np.ndarray:
    """faceshifter_batch + the resize in get_final_image: (Y·0.5 + 0.5)·255, RGB → BGR, to uint8 (truncating),
    cv2.resize to 224."""
    y = run1(gen, ghost_generator_input(crop_bgr), identity.reshape(1, 512).astype(np.float32))
    img = ((y.transpose(0, 2, 3, 1) * 0.5 + 0.5) * 255)[0][:, :, [2, 1, 0]].astype(np.uint8)
    return cv2.resize(img, (224, 224))


def landmarks106_on_crop(lm: ort.InferenceSession, crop224: np.ndarray) -> np.ndarray:
    """coordinate_reg Handler.get_without_detection_without_transform: fixed 224 → 192 warp (×0.5714… + 32),
    RGB float, (p + 1)·96, mapped back by ×1.75 − 56."""
    m = np.array([[0.57142857, 0.0, 32.0], [0.0, 0.57142857, 32.0]])
    rimg = cv2.cvtColor(cv2.warpAffine(crop224, m, (192, 192), borderValue=0.0), cv2.COLOR_BGR2RGB)
    pred = run1(lm, rimg.transpose(2, 0, 1)[None].astype(np.float32)).reshape(-1, 2)[:106]
    pred = (pred + 1) * 96
    return pred * 1.75 - 56.0


def ghost_mask_params(lm_swap: np.ndarray, lm_tgt: np.ndarray) -> tuple[int, int, int]:
    left = sum(lm_swap[i][0] - lm_tgt[i][0] for i in (1, 2, 13))
    right = sum(lm_tgt[i][0] - lm_swap[i][0] for i in (17, 18, 29))
    offset = max(left, right)
    if offset > 6:
        return 15, 15, 10
    if offset > 3:
        return 10, 10, 8
    if offset < -3:
        return -5, 5, 10
    return 5, 5, 5


def ghost_face_mask(lm_swap: np.ndarray, params: tuple[int, int, int]) -> np.ndarray:
    """masks.face_mask_static with given params: landmarks in int32, brows expanded by the mode's factor (stored
    back into int32), convex hull filled with 255 on a uint8 image, eroded/dilated, 2σy border cleared, uint8
    GaussianBlur with (0, 0) kernel, /255."""
    erode, sx, sy = params
    factor = 2.7 if erode == 15 else (0.5 if erode == -5 else 2.0)
    pts = np.array(lm_swap, dtype=np.int32)
    for top, bot in (([43, 48, 49, 51, 50], [35, 41, 40, 42, 39]), ([102, 103, 104, 105, 101], [89, 95, 94, 96, 93])):
        pts[top] = pts[top] + factor * 0.5 * (pts[top] - pts[bot])
    mask = np.zeros((224, 224), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(pts), 255)
    kernel = np.ones((abs(erode), abs(erode)), np.uint8)
    mask = cv2.erode(mask, kernel, iterations=1) if erode > 0 else cv2.dilate(mask, kernel, iterations=1)
    c = sy * 2
    mask[:c, :], mask[-c:, :], mask[:, :c], mask[:, -c:] = 0, 0, 0, 0
    return cv2.GaussianBlur(mask, (0, 0), sigmaX=sx, sigmaY=sy) / 255


def ghost_paste(frame: np.ndarray, swap224: np.ndarray, mask: np.ndarray, m: np.ndarray) -> np.ndarray:
    """image_processing.get_final_image: inverse affine, face with replicated border, mask with zero border,
    mask·swap + (1 − mask)·frame, to uint8 (truncating)."""
    inv = cv2.invertAffineTransform(m)
    size = (frame.shape[1], frame.shape[0])
    swap_t = cv2.warpAffine(swap224, inv, size, borderMode=cv2.BORDER_REPLICATE)
    mask_t = cv2.warpAffine(mask, inv, size)[..., None]
    return np.array(mask_t * swap_t + (1 - mask_t) * frame, dtype="uint8")


# inswapper ------------------------------------------------------------------------------------------------
def insight_norm_crop(img: np.ndarray, kps: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """face_align.norm_crop2: the ArcFace template ×size/112 (sizes of 112k), or ×size/128 shifted 8·ratio px
    right (sizes of 128k)."""
    if size % 112 == 0:
        dst = ARCFACE_DST * (size / 112.0)
    else:
        dst = ARCFACE_DST * (size / 128.0) + np.array([8.0 * size / 128.0, 0.0], np.float32)
    m = lstsq_similarity(kps, dst)
    return cv2.warpAffine(img, m, (size, size), borderValue=0.0), m


def insight_embedding(arc: ort.InferenceSession, img: np.ndarray, kps: np.ndarray) -> np.ndarray:
    """ArcFaceONNX.get → normed_embedding: 112 crop, blob (x − 127.5)/127.5 with R and B swapped."""
    crop, _ = insight_norm_crop(img, kps, 112)
    blob = cv2.dnn.blobFromImage(crop, 1.0 / 127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True)
    e = run1(arc, blob).reshape(-1)
    return e / np.linalg.norm(e)


def inswapper_swap(
    model: ort.InferenceSession, emap: np.ndarray, img: np.ndarray, kps: np.ndarray, normed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """INSwapper.get up to the paste: crop 128, blob /255 RGB, latent = normed·emap / ‖·‖, output ×255 clipped
    to uint8, RGB → BGR. Returns (bgr_fake, aligned crop, M)."""
    aimg, m = insight_norm_crop(img, kps, 128)
    blob = cv2.dnn.blobFromImage(aimg, 1.0 / 255.0, (128, 128), (0.0, 0.0, 0.0), swapRB=True)
    latent = normed.reshape(1, -1) @ emap
    latent /= np.linalg.norm(latent)
    pred = run1(model, blob, latent.astype(np.float32))
    return np.clip(255 * pred.transpose(0, 2, 3, 1)[0], 0, 255).astype(np.uint8)[:, :, ::-1], aimg, m


def inswapper_mask(frame_shape: tuple[int, ...], m: np.ndarray) -> np.ndarray:
    """INSwapper.get's paste mask over the whole frame (float32, 0–1)."""
    inv = cv2.invertAffineTransform(m)
    size = (frame_shape[1], frame_shape[0])
    white = cv2.warpAffine(np.full((128, 128), 255, np.float32), inv, size, borderValue=0.0)
    white[white > 20] = 255
    hs, ws = np.where(white == 255)
    s = int(np.sqrt((np.max(hs) - np.min(hs)) * (np.max(ws) - np.min(ws))))
    k = max(s // 10, 10)
    white = cv2.erode(white, np.ones((k, k), np.uint8), iterations=1)
    b = max(s // 20, 5)
    white = cv2.GaussianBlur(white, (2 * b + 1, 2 * b + 1), 0)
    return white / 255


def inswapper_paste(frame: np.ndarray, bgr_fake: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The rest of INSwapper.get: fake warped back (zero border), merged by the mask, to uint8 (truncating)."""
    inv = cv2.invertAffineTransform(m)
    fake = cv2.warpAffine(bgr_fake, inv, (frame.shape[1], frame.shape[0]), borderValue=0.0)
    mask = inswapper_mask(frame.shape, m)[..., None]
    return (mask * fake + (1 - mask) * frame.astype(np.float32)).astype(np.uint8)


# SCRFD ----------------------------------------------------------------------------------------------------
def scrfd_detect(det: ort.InferenceSession, img: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """SCRFD.detect at 640: resize keeping the aspect (truncated), top-left in a zero square, blob
    (x − 127.5)/128 with R and B swapped, outputs by position (scores, boxes, keypoints × strides 8/16/32),
    distances × stride from anchor centres (2 per cell), score ≥ threshold, NMS 0.4 with +1 areas."""
    ratio = img.shape[0] / img.shape[1]
    nh, nw = (640, int(640 / ratio)) if ratio > 1.0 else (int(640 * ratio), 640)
    scale = nh / img.shape[0]
    square = np.zeros((640, 640, 3), np.uint8)
    square[:nh, :nw] = cv2.resize(img, (nw, nh))
    blob = cv2.dnn.blobFromImage(square, 1 / 128, (640, 640), (127.5,) * 3, swapRB=True)
    outs = det.run(None, {det.get_inputs()[0].name: blob})
    boxes, scores, kpss = [], [], []
    for i, stride in enumerate((8, 16, 32)):
        g = 640 // stride
        centres = np.stack(np.mgrid[:g, :g][::-1], axis=-1).astype(np.float32).reshape(-1, 2) * stride
        centres = np.repeat(centres, 2, axis=0)
        sc, bx, kp = outs[i].reshape(-1), outs[i + 3] * stride, outs[i + 6] * stride
        keep = np.where(sc >= threshold)[0]
        boxes.append(np.c_[centres[:, :2] - bx[:, :2], centres + bx[:, 2:]][keep])
        kpss.append((kp.reshape(-1, 5, 2) + centres[:, None, :])[keep])
        scores.append(sc[keep])
    b, s, k = np.vstack(boxes) / scale, np.concatenate(scores), np.vstack(kpss) / scale
    order = s.argsort()[::-1]
    b, s, k = b[order], s[order], k[order]
    keep, idx = [], np.arange(len(s))
    areas = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    while idx.size:
        i = idx[0]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(b[i, 2], b[idx[1:], 2]) - np.maximum(b[i, 0], b[idx[1:], 0]) + 1)
        h = np.maximum(0.0, np.minimum(b[i, 3], b[idx[1:], 3]) - np.maximum(b[i, 1], b[idx[1:], 1]) + 1)
        inter = w * h
        idx = idx[1:][inter / (areas[i] + areas[idx[1:]] - inter) <= 0.4]
    return np.c_[b[keep], s[keep]], k[keep]
