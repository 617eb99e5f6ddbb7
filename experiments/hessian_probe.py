"""Does a C++-like float32 Hessian and OpenCV's float Cholesky reproduce C++'s NU-RLMS updates better than double?

    python -m experiments.hessian_probe

For every traced non-rigid NU-RLMS update of frames 2-3 (trace/clnf), from C++'s own parameters and mean-shifts,
the parameter update is solved three ways and compared with C++'s (relative to its largest entry): the double
normal equations and solve of the numba variant
OpenBLAS sgemm for J^T J (as the C++ calls it) with a replica of
OpenCV's CholImpl<float>
the double Hessian rounded to float then CholImpl. Findings: RESULTS.md §0.
"""
import numpy as np

from aubench.harness.paths import shared_dir
from aubench.pipeline.landmarks import pdm as P
from aubench.pipeline.models.pdm import read_pdm

F32 = np.float32
TRACE = shared_dir() / "reference" / "trace" / "clnf"

def chol_impl_f32(A, b):
    """OpenCV hal CholImpl<float>: double accumulators, float storage, reciprocal diagonal."""
    A = A.astype(F32).copy()
    b = b.astype(F32).copy()
    k = A.shape[0]
    L = A
    for i in range(k):
        for j in range(i):
            s = np.float64(A[i, j])
            for kk in range(j):
                s -= np.float64(L[i, kk]) * np.float64(L[j, kk])
            L[i, j] = F32(s * np.float64(L[j, j]))
        s = np.float64(A[i, i])
        for kk in range(i):
            t = np.float64(L[i, kk])
            s -= t * t
        L[i, i] = F32(1.0 / np.sqrt(s))
    # forward: L y = b
    for i in range(k):
        s = np.float64(b[i])
        for kk in range(i):
            s -= np.float64(L[i, kk]) * np.float64(b[kk])
        b[i] = F32(s * np.float64(L[i, i]))
    # backward: L^T x = y
    for i in range(k - 1, -1, -1):
        s = np.float64(b[i])
        for kk in range(k - 1, i, -1):
            s -= np.float64(L[kk, i]) * np.float64(b[kk])
        b[i] = F32(s * np.float64(L[i, i]))
    return b

def gemm_double_acc(a, b):  # OpenCV's small gemm: float inputs, double accumulation, float result
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(F32)

def main() -> None:
    from aubench.pipeline.models import locate

    d = TRACE
    pdm = read_pdm(locate() / "model" / "pdms" / "In-the-wild_aligned_PDM_68.txt")
    errs = {"double (ours)": [], "f32 sgemm + CholImpl": [], "f64 hess rounded + CholImpl": []}
    for frame in (2, 3):
        for scale in ("scale1", "scale2"):
            base = d / f"frame{frame:04d}/track/main/{scale}/nonrigid"
            if not base.exists():
                continue
            ups = np.load(base / "iter_param_update.npy")
            ms_img = np.load(base / "iter_meanshift_img.npy")
            after = np.load(base / "iter_params_after.npy")
            reg = np.load(base / "reg_diag.npy")[0]
            start = np.load(base.parent / "params_after_rigid.npy")[0]
            for it in range(len(ups)):
                params = start if it == 0 else after[it - 1]
                g, loc = params[:6], params[6:]
                J, Jt = P.compute_jacobian(pdm, g, loc)
                ms = np.concatenate([ms_img[it][:, 0], ms_img[it][:, 1]]).astype(F32)
                # ours: double normal equations and solve
                J64 = J.astype(np.float64)
                H = J64.T @ J64 + np.diag(reg.astype(np.float64))
                r = J64.T @ ms.astype(np.float64)
                r[6:] -= reg[6:].astype(np.float64) * loc.astype(np.float64)
                u_d = np.linalg.solve(H, r).astype(F32)
                # C++-like
                Jwtm = gemm_double_acc(Jt, ms[:, None])[:, 0]
                Jwtm[6:] = Jwtm[6:] - gemm_double_acc(np.diag(reg[6:]), loc[:, None])[:, 0]
                Hf = (np.diag(reg) + (Jt @ J)).astype(F32)  # numpy sgemm (OpenBLAS), float32
                u_c = chol_impl_f32(Hf, Jwtm)
                Hr = H.astype(F32)
                u_r = chol_impl_f32(Hr, Jwtm)
                ref = ups[it]
                scale_ = np.abs(ref).max()
                errs["double (ours)"].append(np.abs(u_d - ref).max() / scale_)
                errs["f32 sgemm + CholImpl"].append(np.abs(u_c - ref).max() / scale_)
                errs["f64 hess rounded + CholImpl"].append(np.abs(u_r - ref).max() / scale_)
    for k, v in errs.items():
        v = np.array(v)
        print(f"{k:30s} max rel err {v.max():.3e} median {np.median(v):.3e}  exact {np.mean(v == 0):.2f}")


if __name__ == "__main__":
    main()
