//! `ecs-pull-doctor` explains why an ECS task could not pull its image.
//!
//! The flow runs one way, and each step is its own module:
//!
//! 1. [`event`]: an EventBridge `ECS Task State Change` document becomes the failed task
//!    (or a reason to skip it).
//! 2. [`reason`]: the task's error message becomes a [`reason::PullFailure`]: what went wrong
//!    (symptom), on which dependency (hop), and the host and IP the task dialled.
//! 3. [`ipranges`]: who owns that IP, from AWS's published `ip-ranges.json`.
//! 4. [`network`]: the view of the task's VPC that the rules need, loaded from a snapshot file.
//! 5. [`diagnose`]: pure rules turn all of the above into ordered findings with fixes.
//! 6. [`render`]: findings become text for people or JSON for machines, in English or Korean.
//!
//! 7. [`alert`]: which failures are the same alert, for storm suppression.
//!
//! Every module except the loaders, [`network::live`] and [`lambda`] does no I/O; [`lambda`]
//! wires the steps for the `bootstrap` function, the CLI wires them for people.

pub mod alert;
pub mod config;
pub mod diagnose;
pub mod event;
pub mod ipranges;
pub mod lambda;
pub mod localized;
pub mod network;
pub mod reason;
pub mod render;
