package dev.dmp.agent.nbd;

/** Why an option is answered with an error reply: the NBD_REP_ERR_* type and a message for people. */
record OptionRefusal(int type, String message) {}
