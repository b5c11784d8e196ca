//! `ecs-pull-doctor` explains why an ECS task could not pull its image.
//!
//! The flow runs one way, and each step is its own module:
//!
//! 1. [`event`]: an EventBridge `ECS Task State Change` document becomes the failed task
//!    (or a reason to skip it).
//! 2. [`reason`]: the task's error message becomes a [`reason::PullFailure`]: what went wrong
//!    (symptom), on which dependency (hop), and the host and IP the task dialled.
//! 3. [`ipranges`]: who owns that IP, from AWS's published `ip-ranges.json`.
//! 4. [`network`]: the view of the task's VPC that the rules need, from a snapshot file or
//!    live inspection ([`network::source`] chooses).
//! 5. [`diagnose`]: the failure becomes probes (from the interface that pulled to each
//!    destination the hop needs), each checked by pure rules; their findings are ranked, with
//!    fixes and the path each probe walked.
//! 6. [`render`]: findings become text for people or JSON for machines, in English or Korean.
//!
//! 7. [`alert`]: which failures are the same alert, for storm suppression.
//!
//! [`service_event`] reads ECS service and deployment events, which mitigate or close the
//! incident a service's failures opened (followed in PagerDuty, Slack, Teams and Amazon Q
//! Developer by [`lambda`]); [`routes`] decides where each incident goes, or mutes it.
//!
//! [`audit`] runs step 5's probe check before anything fails: for every service, from each
//! of its subnets to each hop its task definition needs, folded into root causes; [`change`]
//! reads the CloudTrail changes that can break a pull, so the Lambda audits after them.
//!
//! [`files`] reads what the CLI and the function are given under a cap fitting its kind;
//! [`trust`] decides which accounts, regions and ARNs an event may name, and [`untrusted`]
//! makes the text it carries fit to show: both guard every step above.
//!
//! Every module except the loaders, [`network::live`], [`network::source`] and [`lambda`] does
//! no I/O; [`lambda`] wires the steps for the `bootstrap` function, the CLI wires them for
//! people.

pub mod alert;
pub mod audit;
pub mod change;
pub mod config;
pub mod diagnose;
pub mod event;
pub mod files;
pub mod ipranges;
pub mod lambda;
pub mod localized;
pub mod network;
pub mod reason;
pub mod render;
pub mod routes;
pub mod service_event;
pub mod sweep;
pub mod tfplan;
pub mod trust;
pub mod untrusted;
