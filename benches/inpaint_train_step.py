"""The inpainting G+D training step in plain PyTorch, timed on a GPU.

Same generator as trainer/src/inpaint/model.rs (gated-conv U-Net, 818 451
parameters), the same PatchGAN shapes (without spectral norm), hole L1 +
0.001 x hinge loss, Adam, batch 16 of 256x256: the reference that the burn-tch
step of `edgegan train inpaint --device cuda` is compared with in the README
("Training on a GPU"). Diagnosis only: it trains on random tensors.

    python3 benches/inpaint_train_step.py   # on a machine with CUDA PyTorch
"""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEV = "cuda"


def gated(cin, cout, stride=1, dilation=1):
    """Feature and gate convs of one gated conv."""
    conv = lambda: nn.Conv2d(cin, cout, 3, stride, dilation, dilation)
    return nn.ModuleList([conv(), conv()])


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.ModuleList([gated(4, 16), gated(16, 32, 2), gated(32, 64, 2), gated(64, 96, 2)])
        self.mid = nn.ModuleList([gated(96, 96, 1, d) for d in (2, 4, 8)])
        self.dec = nn.ModuleList([gated(96, 64), gated(64, 32), gated(32, 16)])
        self.refine = gated(16, 16)
        self.tail = nn.Conv2d(16, 3, 3, 1, 1)

    @staticmethod
    def gate(g, x):
        return F.leaky_relu(g[0](x), 0.2) * torch.sigmoid(g[1](x))

    def forward(self, x):
        skips, y = [], x
        for g in self.enc:
            y = self.gate(g, y)
            skips.append(y)
        for g in self.mid:
            y = self.gate(g, y)
        for i, g in enumerate(self.dec):
            y = F.interpolate(self.gate(g, y), scale_factor=2) + skips[2 - i]
        return x[:, :3] + self.tail(self.gate(self.refine, y))


def discriminator():
    layers = []
    for cin, cout in [(4, 32), (32, 64), (64, 128), (128, 128)]:
        layers += [nn.Conv2d(cin, cout, 5, 2, 2), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Conv2d(128, 1, 5, 2, 2))


def seconds_per_step(g, d, steps=30, batch=16, side=256):
    opt_g = torch.optim.Adam(g.parameters(), 1e-3, (0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 1e-3, (0.5, 0.999))
    x = torch.rand(batch, 4, side, side, device=DEV)
    truth = torch.rand(batch, 3, side, side, device=DEV)
    m = (x[:, 3:] > 0.7).float()
    for i in range(steps + 5):
        if i == 5:
            torch.cuda.synchronize()
            t0 = time.time()
        out = g(x)
        comp = out * m + truth * (1 - m)
        d_loss = F.relu(1 - d(torch.cat([truth, m], 1))).mean() + F.relu(1 + d(torch.cat([comp.detach(), m], 1))).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = ((out - truth).abs() * m).sum() / m.sum() - 0.001 * d(torch.cat([comp, m], 1)).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        g_loss.item()
    torch.cuda.synchronize()
    return (time.time() - t0) / steps


if __name__ == "__main__":
    g, d = Generator().to(DEV), discriminator().to(DEV)
    print(f"{torch.cuda.get_device_name()}: torch {torch.__version__}, fp32")
    print(f"seconds per step: {seconds_per_step(g, d):.4f}")
