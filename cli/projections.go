package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/storeline/storeline/app"
)

func projectionsCmd() *cobra.Command {
	projs := &cobra.Command{Use: "projections", Short: "Where the read models stand"}
	var sample time.Duration
	var asJSON, partitions bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Each projection's state, lag, rate, ETA and pending dead letters (measured over --sample)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := load(cmd)
			if err != nil {
				return err
			}
			st, err := app.ProjectionsStatus(cmd.Context(), cfg, log, sample)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PROJECTION\tVERSION\tSTATE\tLAG\tEVENTS/S\tETA\tLAST COMMIT\tDEAD LETTERS")
			for _, s := range st {
				eta, last := "-", "-"
				if s.ETA != nil {
					eta = s.ETA.Round(time.Second).String()
				}
				if s.LastCommit != nil {
					last = time.Since(*s.LastCommit).Round(time.Second).String() + " ago"
				}
				fmt.Fprintf(w, "%s\tv%d (%s)\t%s\t%d\t%.0f\t%s\t%s\t%d\n", s.Name, s.Version, s.VersionState, s.State, s.Lag, s.EventsPerSecond, eta, last, s.DeadLettersPending)
				if partitions {
					for _, p := range s.Partitions {
						fmt.Fprintf(w, "  %s/%d\t\t\t%d\t\t\tnext %d of %d\t\n", p.Topic, p.Partition, p.Lag, p.Next, p.End)
					}
				}
			}
			return w.Flush()
		},
	}
	status.Flags().DurationVar(&sample, "sample", 3*time.Second, "how long to watch the checkpoints move, for the rate and ETA")
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	status.Flags().BoolVar(&partitions, "partitions", false, "show the lag of every partition")
	projs.AddCommand(status)
	projs.AddCommand(projectionVersionCmds()...)
	return projs
}

func projectionVersionCmds() []*cobra.Command {
	var noPromote bool
	var grace time.Duration
	rebuild := &cobra.Command{
		Use:   "rebuild NAME",
		Short: "Build the next version of a projection by replaying the log beside the live one, then promote it (blue/green); run again after a crash, it resumes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, log, err := load(cmd)
			if err != nil {
				return err
			}
			_, err = app.RebuildProjection(cmd.Context(), cfg, log, args[0], app.RebuildOptions{Promote: !noPromote, Grace: grace}, cmd.ErrOrStderr())
			return err
		},
	}
	rebuild.Flags().BoolVar(&noPromote, "no-promote", false, "stop once caught up, to promote by hand")
	rebuild.Flags().DurationVar(&grace, "grace", 10*time.Minute, "how long the old version's tables are kept after promotion")

	var promoteGrace time.Duration
	promote := &cobra.Command{
		Use:   "promote NAME",
		Short: "Make the version being built live, if it has caught up with the live one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, log, err := load(cmd)
			if err != nil {
				return err
			}
			v, err := app.PromoteProjection(cmd.Context(), cfg, log, args[0], promoteGrace)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s v%d is live\n", v.Projection, v.Version)
			return nil
		},
	}
	promote.Flags().DurationVar(&promoteGrace, "grace", 10*time.Minute, "how long the old version's tables are kept")

	abort := &cobra.Command{
		Use:   "abort NAME",
		Short: "Give up the version being built (its tables and checkpoints go)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, log, err := load(cmd)
			if err != nil {
				return err
			}
			v, err := app.AbortProjection(cmd.Context(), cfg, log, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s v%d aborted\n", v.Projection, v.Version)
			return nil
		},
	}
	drop := &cobra.Command{
		Use:   "drop NAME VERSION",
		Short: "Drop a retired version's tables now, without waiting for its grace period",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var version int
			if _, err := fmt.Sscan(args[1], &version); err != nil {
				return fmt.Errorf("version %q: %w", args[1], err)
			}
			cfg, log, err := load(cmd)
			if err != nil {
				return err
			}
			if err := app.DropProjectionVersion(cmd.Context(), cfg, log, args[0], version); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s v%d dropped\n", args[0], version)
			return nil
		},
	}
	return []*cobra.Command{rebuild, promote, abort, drop}
}
