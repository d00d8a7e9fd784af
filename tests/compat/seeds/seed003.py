# %%
from torch import tensor
import torch

"""
Assume we want to autograd function `y = 2x^Tx`
"""
x : tensor = torch.arange(4.0, requires_grad=True)
x

# %%
x.grad # The gradient is None by default

# %%
y : tensor = 2 * torch.dot(x, x)
y

# %%
y.backward()
x.grad

# %%
x.grad == 4 * x

# %%
x.grad.zero_() # Reset gradient
y = x.sum()
y.backward()
x.grad

# %%
x, x.grad

# %%
x.grad.zero_()
x, x.grad

# %%
y = x * x
y.backward(gradient=torch.ones(len(y)))
x.grad

# %%
x.grad.zero_()
x, x.grad

# %%
y = x * x
u = y.detach()
z = u * x
u, z

# %%
z.sum().backward()
x.grad, x.grad == u

# %%
x.grad.zero_()
x.grad

# %%
y.sum().backward() # this is one-time operation! Once y is computed you can call .backward() only once!
x.grad, x.grad == 2 * x

# %%
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c

# %%
a = torch.randn(size=(), requires_grad=True)
a

# %%
d = f(a)
d

# %%
d.backward()

# %%
a.grad, a.grad == d / a

# %%
a = torch.randn(size=(3, ), requires_grad=True)
d = f(a)
scalar_d = d.sum()  # Taking the sum to obtain a scalar quantity
scalar_d.backward()
print(d, scalar_d, a, a.grad)
