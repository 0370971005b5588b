// Package cli holds the storeline command's subcommands (cobra).
package cli

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/storeline/storeline/app"
	"github.com/storeline/storeline/config"
)

// Version is set at build time (-ldflags "-X github.com/storeline/storeline/cli.Version=...").
var Version = "dev"

// Root returns the storeline command.
func Root() *cobra.Command {
	root := &cobra.Command{
		Use:           "storeline",
		Short:         "Shopify commerce activity as an event log on Kafka, served as read models, feeds and Iceberg tables",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	config.Register(root.PersistentFlags())
	root.AddCommand(runCmd(), migrateCmd(), versionCmd(), configCmd(), topicsCmd(), piiCmd(), syncCmd(), dlqCmd(), projectionsCmd(), lakeCmd())
	return root
}

func load(cmd *cobra.Command) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(cmd.Flags())
	if err != nil {
		return nil, nil, err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, nil, fmt.Errorf("log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	return cfg, slog.New(h), nil
}

func runCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the roles (--roles gateway,projector,sink or all) until SIGINT/SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := load(cmd)
			if err != nil {
				return err
			}
			log.Info("storeline starting", "version", versionString(), "roles", cfg.Roles)
			return app.Run(cmd.Context(), cfg, log)
		},
	}
}

func migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := load(cmd)
			if err != nil {
				return err
			}
			svc, err := app.StartServices(cmd.Context(), cfg, log, false)
			if err != nil {
				return err
			}
			defer svc.Close()
			log.Info("migrations applied")
			return nil
		},
	}
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "storeline", versionString()) },
	}
}

func configCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print every setting (flag, environment variable, default) as a Markdown table",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprint(cmd.OutOrStdout(), config.Markdown()) },
	}
}

func versionString() string {
	v := Version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + info.GoVersion
	}
	return v
}
