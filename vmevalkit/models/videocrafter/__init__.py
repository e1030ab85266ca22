"""Native VideoCrafter (LVDM) engine: image+text-to-video latent diffusion, in-process."""
