//! The whole access picture (issue 10): the organization, its managers, project managers,
//! project grants with their managers, and the grants other organizations make through them.
