package main

import "flag"

func helpCommand() *command {
	return &command{
		name:    "help",
		args:    "[COMMAND]",
		summary: "list the commands, or show one command's flags and an example",
		example: `  credvault help
  credvault help get          # the same as credvault get -h`,
		setup: func(fs *flag.FlagSet, c *cli) func([]string) error {
			return func(args []string) error {
				switch len(args) {
				case 0:
					printUsage(c.stdout)
					return nil
				case 1:
					cmd := lookup(args[0])
					if cmd == nil || cmd.hidden {
						return usageError{unknownCommand(args[0])}
					}
					fs, _ := cmd.flags(c)
					commandUsage(c.stdout, cmd, fs)
					return nil
				}
				return usagef("help takes at most one COMMAND")
			}
		},
	}
}
