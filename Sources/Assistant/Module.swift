// Module Assistant.
//
// The scenarios (knowledge-base Q&A, customer service, reports), written against small protocols.
