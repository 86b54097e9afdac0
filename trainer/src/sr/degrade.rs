//! Optional "real-world" degradations of training inputs: the runtime's
//! [`Degradations`] (the same code degrades `edgegan eval --degrade`
//! inputs), drawn per patch with probability ½ each. The targets stay
//! clean, so a model trained with them learns to remove these artefacts
//! while upscaling.

pub use edgegan_runtime::sr::degrade::Degradations;
