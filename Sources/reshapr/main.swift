import ReshaprCLI

await ReshaprCommand.run()
