"""One training step of ImplicitNMF's networks on 10^6 fully scattered points.

``architecture="shared"``, K = 20, encoding_size 6, the lattice ("auto"),
1 thread: CPU milliseconds per full-batch Rprop step (the issue's target is
>= 1 step/s). ``python benchmarks/scattered_step.py``
"""
import time, torch, numpy as np, sys
torch.set_num_threads(1)
from sklearn_innmf.problem import prepare_points, SeparableModel
from sklearn_innmf.factors import ImplicitFactor
from sklearn_innmf.problem import Problem, Block
from sklearn_innmf.solvers import solve_gradient
rng=np.random.RandomState(0); L=10**6; K=20
t=rng.rand(L); f=4000*rng.rand(L); m=rng.rand(L)+0.1
data=prepare_points(np.column_stack([t,f]), m, scale=m.mean(), device="cpu", dtype=torch.float32)
g=torch.Generator().manual_seed(0)
facs=[ImplicitFactor(K, float(u.min()), float(u.max()), encoding_size=6, architecture="shared", init_value=(1/K)**0.5, generator=g).float() for u in data.uniques]
model=SeparableModel(facs, scale=data.scale)
p=Problem(model, data, 1.0, [Block(0,"gradient"), Block(1,"gradient")])
solve_gradient(p, max_iter=2, tol=0, learning_rate=1e-2)
t0=time.process_time(); w0=time.perf_counter()
solve_gradient(p, max_iter=6, tol=0, learning_rate=1e-2)
print("cpu ms/step %.0f wall %.0f" % ((time.process_time()-t0)/6*1000, (time.perf_counter()-w0)/6*1000))
