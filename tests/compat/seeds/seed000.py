# %%
import torch

# %%
def f(x):
    return x**2 + 3*x + 2

def f_grad(x):
    return 2*x + 3

def autograd(func, x):
    gradients = []
    for xi in x:
        y = func(xi)
        gradients.append(torch.autograd.grad(outputs=y, inputs=xi)[0])
    return torch.stack(gradients)

x_tensor = torch.arange(-5, 5, 1, dtype=torch.float32, requires_grad=True)

f_value    = f(x_tensor)
f_grad     = f_grad(x_tensor)
f_autograd = autograd(f, x_tensor)

for i in range(len(x_tensor)):
    print(f"x = {x_tensor[i].item():5.2f}: "
          f"f(x) = {f_value[i].item():5.2f}, "
          f"f_grad(x) = {f_grad[i].item():5.2f}, "
          f"autograd(x) = {f_autograd[i].item():5.2f}")

# %%
t1 = torch.tensor([[1, 2, 3],
                   [4, 5, 6]], dtype=torch.float32, requires_grad=True)

t2 = torch.tensor([[7, 8, 9],
                   [10, 11, 12]], dtype=torch.float32, requires_grad=True)

print(f"t1.grad = {t1.grad}")
print(f"t1.grad_fn = {t1.grad_fn}")

# %%
t1_mul_t2 = t1 * t2
print(f"t1_mul_t2 = {t1_mul_t2}")
print(f"t1.grad = {t1.grad}")

# %%
t1_mul_t2.sum().backward()
print(f"t1.grad = {t1.grad}")
print(f"t2.grad = {t2.grad}")

# %%
t2_modified = t2.clone()
t2_modified[0,1] = t2[0,1] + 3
t1_mul_t2_updated = t1 * t2_modified
updated_sum = t1_mul_t2_updated.sum()
change_in_sum = updated_sum - t1_mul_t2.sum()
print(f"Change in sum: {change_in_sum}")
