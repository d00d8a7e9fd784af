# %%
import numpy as np
import torch

# %%
x = torch.tensor(3., requires_grad=True)
print("x", x)

# %%
y = x ** 2  # y = x^2
y.backward()
gradient = x.grad
print("Gradient of y with respect to x", gradient)

# %%
y = 3*x**2 + 4*x + 2
print("y = 3x^2 + 4x + 2 = ", y.item())

# %%
y.backward()
print("derivative of `y` with respect to `x` =", x.grad)

# %%
x = torch.tensor(3., requires_grad=True)
print(x)

# %%
x = x.requires_grad_(False)
print(x)

# %%
x = x.detach()
print(x)

# %%
x = torch.tensor(3., requires_grad=True)

for epoch in range(3):
  y = 3*x**2 + 4*x + 2
  y.backward()

  print(x.grad)
  x.grad.zero_()

# %%
import torch

x1 = torch.tensor([2, 3], dtype=torch.float32, requires_grad=True)
x2 = torch.tensor([2, 1], dtype=torch.float32, requires_grad=True)

print("x1:", x1)
print("x2:", x2)

w1 = torch.tensor([3, 2], dtype=torch.float32, requires_grad=True)
w2 = torch.tensor([1, 4], dtype=torch.float32, requires_grad=True)
b = torch.tensor(1, dtype=torch.float32, requires_grad=True)

y_pred = x1 * w1 + x2 * w2 + b

y_true = torch.tensor([11, 15], dtype=torch.float32)

loss = torch.mean((y_pred - y_true) ** 2)

dloss_dy_pred = 2 * (y_pred - y_true) / y_pred.numel()  # dloss/dy_pred
dloss_dw1 = (dloss_dy_pred * x1).sum()
dloss_dw2 = (dloss_dy_pred * x2).sum()
dloss_db = dloss_dy_pred.sum()

print("Gradients of loss with respect to w1:", dloss_dw1.item())
print("Gradients of loss with respect to w2:", dloss_dw2.item())
print("Gradient of loss with respect to b:", dloss_db.item())

# %%
def compute_gradient(X, y, y_pred): 
    m = X.shape[0]

    dw = (2/m) * np.dot(X.T, (y_pred - y))
    db = (2/m) * np.sum(y_pred - y)

    return dw, db

# %%
x1 = torch.tensor([2, 3], dtype=torch.float32, requires_grad=True)
x2 = torch.tensor([2, 1], dtype=torch.float32, requires_grad=True)

print("x1:", x1)
print("x2:", x2)

w1 = torch.tensor([3, 2], dtype=torch.float32, requires_grad=True)
w2 = torch.tensor([1, 4], dtype=torch.float32, requires_grad=True)
b = torch.tensor(1, dtype=torch.float32, requires_grad=True)

print("w1:", w1)
print("w2:", w2)
print("b:", b)

y_pred = x1 * w1 + x2 * w2 + b
print("y_pred:", y_pred)

y_true = torch.tensor([11, 15], dtype=torch.float32)
print("y_true:", y_true)

loss = torch.mean((y_pred - y_true) ** 2)
print("loss:", loss)

loss.backward()

gradient_w1 = w1.grad
gradient_w2 = w2.grad
gradient_b = b.grad

print("Gradients of loss with respect to w1:", gradient_w1)
print("Gradients of loss with respect to w2:", gradient_w2)
print("Gradient of loss with respect to b:", gradient_b)

X = np.array(list(zip(x1.detach().numpy(), x2.detach().numpy())))
w = np.array(list(zip(w1.detach().numpy(), w2.detach().numpy())))
y = y_true.detach().numpy()
y_pred = y_pred.detach().numpy()
b = b.detach().numpy()
dw, db = compute_gradient(X, y, y_pred)
print("dw:", dw)
print("db:", db)

print("dw:", dw/len(X))
print("db:", db/len(X))
