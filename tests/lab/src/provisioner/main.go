// Command nfs-subdir-provisioner-lab is the lab's stand-in for the NFS subdir external
// provisioner (kubernetes-sigs/nfs-subdir-external-provisioner v4.0.2, the image the
// collection deploys by default). LAB ONLY: never part of the collection.
//
// Why a stand-in: the Go module proxy reachable from the build machines refuses the
// upstream module (HTTP 403 "This module version is not available" for its version list,
// for v4.0.2, v4.0.2+incompatible and for the pseudo-version of the v4.0.2 commit) and the
// library version it is built on (sig-storage-lib-external-provisioner/v6). The proxy does
// serve the library's current line, v13, so the controller loop here is the upstream one:
// claim and volume informers, provisioning and deletion, events, finalizers. What this file
// adds is the part the upstream command adds on top of that library, written from its
// documented behaviour (the project's README, "Deploying your own provisioner" and the
// StorageClass parameters table):
//
//   - environment PROVISIONER_NAME, NFS_SERVER, NFS_PATH (all required); the export is
//     mounted by kubelet at /persistentvolumes;
//   - a claim gets the directory ${namespace}-${pvcName}-${pvName} under the export, or the
//     class's pathPattern with ${.PVC.namespace}, ${.PVC.name}, ${.PVC.labels.<key>} and
//     ${.PVC.annotations.<key>} substituted; created with mode 0777;
//   - the PersistentVolume is an nfs volume NFS_SERVER:NFS_PATH/<directory> with the
//     claim's access modes and requested size, and the class's reclaim policy and
//     mountOptions;
//   - on deletion: parameter onDelete "delete" removes the directory, "retain" keeps it;
//     without onDelete, archiveOnDelete false (strconv.ParseBool) removes it, a value that is
//     not a boolean fails the deletion (retried, the directory kept), and true or no value
//     renames it to archived-<last element of its path> at the top of the export - with a
//     pathPattern such as ${.PVC.namespace}/${.PVC.name}, archived-<claim name>, the
//     pattern's parent directories left in place;
//   - a claim with a selector is refused, as upstream does.
//
// One difference, on purpose: upstream v4.0.2 elects a leader through an Endpoints lock
// (what the chart's leader-locking Role grants); library v13 only offers a Leases lock,
// which that Role does not grant. The Deployment has one replica and strategy Recreate, so
// leader election is switched off here.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

// mountPath is where the Deployment mounts the export (an nfs volume, through kubelet).
const mountPath = "/persistentvolumes"

type nfsSubdirProvisioner struct {
	client kubernetes.Interface
	server string
	path   string // NFS_PATH, the exported path as the PVs name it
}

var patternVariable = regexp.MustCompile(`\$\{\.PVC\.([a-zA-Z]+)(?:\.([^}]+))?\}`)

// directoryFor returns the claim's directory, relative to the export.
func directoryFor(pattern string, pvc *v1.PersistentVolumeClaim, pvName string) (string, error) {
	if pattern == "" {
		return strings.Join([]string{pvc.Namespace, pvc.Name, pvName}, "-"), nil
	}
	var failure error
	dir := patternVariable.ReplaceAllStringFunc(pattern, func(variable string) string {
		parts := patternVariable.FindStringSubmatch(variable)
		switch {
		case parts[1] == "namespace" && parts[2] == "":
			return pvc.Namespace
		case parts[1] == "name" && parts[2] == "":
			return pvc.Name
		case parts[1] == "labels" && parts[2] != "":
			return pvc.Labels[parts[2]]
		case parts[1] == "annotations" && parts[2] != "":
			return pvc.Annotations[parts[2]]
		}
		failure = fmt.Errorf("pathPattern %q: unknown variable %s", pattern, variable)
		return ""
	})
	if failure != nil {
		return "", failure
	}
	dir = filepath.Clean("/" + dir)[1:] // no way out of the export
	if dir == "" {
		return "", fmt.Errorf("pathPattern %q gives an empty directory for claim %s/%s", pattern, pvc.Namespace, pvc.Name)
	}
	return dir, nil
}

func (p *nfsSubdirProvisioner) Provision(ctx context.Context, options controller.ProvisionOptions) (*v1.PersistentVolume, controller.ProvisioningState, error) {
	pvc := options.PVC
	if pvc.Spec.Selector != nil {
		return nil, controller.ProvisioningFinished, errors.New("claim Selector is not supported")
	}
	dir, err := directoryFor(options.StorageClass.Parameters["pathPattern"], pvc, options.PVName)
	if err != nil {
		return nil, controller.ProvisioningFinished, err
	}
	local := filepath.Join(mountPath, dir)
	klog.FromContext(ctx).Info("creating the claim's directory", "claim", klog.KObj(pvc), "directory", local)
	if err := os.MkdirAll(local, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, fmt.Errorf("unable to create directory to provision new pv: %w", err)
	}
	if err := os.Chmod(local, 0o777); err != nil { // MkdirAll's mode is masked by the umask
		return nil, controller.ProvisioningFinished, fmt.Errorf("unable to set the mode of %s: %w", local, err)
	}
	reclaim := v1.PersistentVolumeReclaimDelete
	if options.StorageClass.ReclaimPolicy != nil {
		reclaim = *options.StorageClass.ReclaimPolicy
	}
	pv := &v1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: options.PVName},
		Spec: v1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   pvc.Spec.AccessModes,
			MountOptions:                  options.StorageClass.MountOptions,
			Capacity:                      v1.ResourceList{v1.ResourceStorage: pvc.Spec.Resources.Requests[v1.ResourceStorage]},
			PersistentVolumeSource: v1.PersistentVolumeSource{
				NFS: &v1.NFSVolumeSource{Server: p.server, Path: filepath.Join(p.path, dir)},
			},
		},
	}
	return pv, controller.ProvisioningFinished, nil
}

func (p *nfsSubdirProvisioner) Delete(ctx context.Context, pv *v1.PersistentVolume) error {
	logger := klog.FromContext(ctx)
	if pv.Spec.NFS == nil {
		return fmt.Errorf("volume %s is not an nfs volume", pv.Name)
	}
	rel, err := filepath.Rel(p.path, pv.Spec.NFS.Path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("volume %s: path %s is not below NFS_PATH %s", pv.Name, pv.Spec.NFS.Path, p.path)
	}
	local := filepath.Join(mountPath, rel)
	if _, err := os.Stat(local); errors.Is(err, os.ErrNotExist) {
		logger.Info("directory does not exist, deletion skipped", "volume", pv.Name, "directory", local)
		return nil
	}
	params, err := p.classParameters(ctx, pv)
	if err != nil {
		return err
	}
	switch params["onDelete"] {
	case "delete":
		logger.Info("removing the directory (onDelete: delete)", "volume", pv.Name, "directory", local)
		return os.RemoveAll(local)
	case "retain":
		logger.Info("keeping the directory (onDelete: retain)", "volume", pv.Name, "directory", local)
		return nil
	}
	if value, ok := params["archiveOnDelete"]; ok {
		archive, err := strconv.ParseBool(value)
		if err != nil { // as upstream: the deletion fails (and is retried), the directory stays
			return fmt.Errorf("volume %s: archiveOnDelete %q: %w", pv.Name, value, err)
		}
		if !archive {
			logger.Info("removing the directory (archiveOnDelete: false)", "volume", pv.Name, "directory", local)
			return os.RemoveAll(local)
		}
	}
	archived := filepath.Join(mountPath, "archived-"+filepath.Base(local))
	logger.Info("archiving the directory", "volume", pv.Name, "directory", local, "archive", archived)
	return os.Rename(local, archived)
}

// classParameters returns the parameters of the volume's StorageClass.
func (p *nfsSubdirProvisioner) classParameters(ctx context.Context, pv *v1.PersistentVolume) (map[string]string, error) {
	name := pv.Spec.StorageClassName
	if name == "" {
		return nil, fmt.Errorf("volume %s has no storage class", pv.Name)
	}
	class, err := p.client.StorageV1().StorageClasses().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading storage class %s of volume %s: %w", name, pv.Name, err)
	}
	return class.Parameters, nil
}

func requiredEnv(name string) string {
	value := os.Getenv(name)
	if value == "" {
		klog.Fatalf("environment variable %s is not set", name)
	}
	return value
}

func main() {
	klog.InitFlags(nil)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	name := requiredEnv("PROVISIONER_NAME")
	server := requiredEnv("NFS_SERVER")
	path := filepath.Clean(requiredEnv("NFS_PATH"))
	config, err := rest.InClusterConfig()
	if err != nil {
		klog.Fatalf("in-cluster configuration: %v", err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		klog.Fatalf("client: %v", err)
	}
	provisioner := &nfsSubdirProvisioner{client: client, server: server, path: path}
	klog.InfoS("starting", "provisioner", name, "nfsServer", server, "nfsPath", path)
	// A claim that failed (its export not writable yet, say root-squashed) is retried without end,
	// at most a minute apart, so a fixed export is picked up without restarting this pod. The
	// library's defaults wait 15 s doubling to 1000 s and give up after 15 failures until the
	// 15-minute resync (measured on the lab: claims stayed Pending after the export was fixed).
	controller.NewProvisionController(ctx, client, name, provisioner, controller.LeaderElection(false),
		controller.FailedProvisionThreshold(0),
		controller.RateLimiter(workqueue.NewTypedItemExponentialFailureRateLimiter[string](2*time.Second, time.Minute)),
	).Run(ctx)
}
