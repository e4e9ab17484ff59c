package dev.dmp.agent.nbd;

/** Why a request is answered with an NBD error without reaching the backend: the error and a message for people. */
record Refusal(int error, String message) {}
