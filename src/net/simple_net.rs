//! The book's 2×3 example network, trained by numerical gradients.
