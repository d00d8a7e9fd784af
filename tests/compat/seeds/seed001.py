# %%
import torch
x = torch.ones(5)
y = torch.zeros(3)
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w) + b
loss=torch.nn.functional.binary_cross_entropy_with_logits(z, y)

# %%
x, y, w, b, z, loss

# %%
print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")

# %%
import torch
tsr = torch.Tensor(3, 5)
tsr

# %%
t1 = torch.randn((3,3), requires_grad = True)
t2 = torch.FloatTensor(3,3) # we will use requires_grad outside the initialization
t2.requires_grad = True

# %%
t1

# %%
a = torch.randn((3,3), requires_grad = True)
a

# %%
w1 = torch.randn((3, 3), requires_grad = True)
w2 = torch.randn((3, 3),requires_grad = True)
w3 = torch.randn((3, 3), requires_grad = True)
w4 = torch.rand((3, 3), requires_grad = True)

b = w1 * a
c = w2 * a
d = w3*b + w4*c 
L = 10 - d

# %%
print(f"The grad fn for a is, {a.grad_fn}")
print(f"The grad fn for d is, {d.grad_fn}")

# %%
c.grad_fn

# %%
"""Example here using the backward function on d, which
takes the gradient of d'l/d'd, and we can get this value from 
d.grad"""
print(" Gradient of L wrt to d in stored in grad attribute of the d:")
d.grad

# %%
print("Overwriting the existing data:")


a = torch.randn((3,3), requires_grad = True)

w1 = torch.randn((3,3), requires_grad = True)
w2 = torch.randn((3,3), requires_grad = True)
w3 = torch.randn((3,3), requires_grad = True)
w4 = torch.randn((3,3), requires_grad = True)

b = w1*a 
c = w2*a

d = w3*b + w4*c 

L = (10 - d)
d.grad_fn

# %%
L.grad_fn

# %%
L.is_leaf

# %%
a.is_leaf

# %%
L.backward()

# %%
print("Overwriting L")
L = (10 -d).sum()
L.backward()

# %%
w1.grad

# %%
w2.grad
