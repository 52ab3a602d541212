//! Strict local HTTP emulators of the cloud APIs tenantform's providers talk to (work in
//! progress: the shared core and the Neon and Cloudflare emulators land next).
