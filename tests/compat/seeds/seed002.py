# %%
import torch
import sys
import os
# %load_ext autoreload
# %autoreload 2

sys.path.append(os.path.join("..", "utils"))

from torchutils import make_dot
import numpy as np

# %%
x = torch.arange(4.0)
x

# %%
x.requires_grad_(True)  # Same as `x = torch.arange(4.0, requires_grad=True)`
x.grad  # The default value is None

# %%
y = 2 * torch.dot(x, x) # forward step
y

# %%
y.backward()
x.grad

# %%
x.grad.zero_()
y = x.sum() # forward pass
y.backward()
x.grad

# %%
z = torch.ones(4, requires_grad=True)
y = torch.dot(x, z)

# %%
x.grad.zero_()
y.backward()

# %%
x.grad

# %%
z.grad

# %%
make_dot(y, locals())

# %%
z = x**2
y = torch.dot(x, z)

# %%
make_dot(y, locals())

# %%
x.grad.zero_()
z.retain_grad() # this ensures that we can access the gradient, otherwise this would not be possible
y.backward()

# %%
x.grad
