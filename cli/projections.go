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
			fmt.Fprintln(w, "PROJECTION\tSTATE\tLAG\tEVENTS/S\tETA\tLAST COMMIT\tDEAD LETTERS")
			for _, s := range st {
				eta, last := "-", "-"
				if s.ETA != nil {
					eta = s.ETA.Round(time.Second).String()
				}
				if s.LastCommit != nil {
					last = time.Since(*s.LastCommit).Round(time.Second).String() + " ago"
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%.0f\t%s\t%s\t%d\n", s.Name, s.State, s.Lag, s.EventsPerSecond, eta, last, s.DeadLettersPending)
				if partitions {
					for _, p := range s.Partitions {
						fmt.Fprintf(w, "  %s/%d\t\t%d\t\t\tnext %d of %d\t\n", p.Topic, p.Partition, p.Lag, p.Next, p.End)
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
	return projs
}
